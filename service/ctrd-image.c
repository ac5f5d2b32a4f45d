/* ctrd-image.c: one image object. */
#include "config.h"

#include <json-glib/json-glib.h>

#include "ctrd-image.h"

struct _CtrdImage
{
  CtrImageSkeleton parent_instance;

  CtrdDaemon *daemon; /* not owned: the daemon owns the image */
  CtrdImageRecord *record;
  char *object_path;
  JsonNode *config; /* the parsed OCI image config; NULL if it did not parse */
};

G_DEFINE_TYPE (CtrdImage, ctrd_image, CTR_TYPE_IMAGE_SKELETON)

static void
ctrd_image_finalize (GObject *object)
{
  CtrdImage *self = CTRD_IMAGE (object);

  g_clear_pointer (&self->record, ctrd_image_record_free);
  g_clear_pointer (&self->config, json_node_unref);
  g_free (self->object_path);
  G_OBJECT_CLASS (ctrd_image_parent_class)->finalize (object);
}

static void
ctrd_image_init (CtrdImage *self)
{
}

static void
ctrd_image_class_init (CtrdImageClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ctrd_image_finalize;
}

char *
ctrd_image_path_for_id (const char *id)
{
  return g_strconcat (CTRD_OBJECT_ROOT "/images/", id, NULL);
}

CtrdImage *
ctrd_image_new (CtrdDaemon *daemon, CtrdImageRecord *record)
{
  CtrdImage *self = g_object_new (CTRD_TYPE_IMAGE, NULL);
  CtrImage *iface = CTR_IMAGE (self);
  g_autoptr (GError) error = NULL;

  self->daemon = daemon;
  self->record = record;
  self->object_path = ctrd_image_path_for_id (record->id);
  self->config = json_from_string (record->config_json, &error);
  if (self->config == NULL || !JSON_NODE_HOLDS_OBJECT (self->config))
    g_warning ("Image %s: unreadable config: %s", record->id,
               error != NULL ? error->message : "not a JSON object");

  ctr_image_set_id (iface, record->id);
  ctr_image_set_names (iface, (const char *const *) record->names);
  ctr_image_set_commit (iface, record->commit);
  ctr_image_set_size (iface, record->size);
  ctr_image_set_created_at (iface, record->created_at);
  ctr_image_set_containers (iface, (const char *const[]){ NULL });
  return self;
}

const char *
ctrd_image_get_id (CtrdImage *self)
{
  return self->record->id;
}

const char *
ctrd_image_get_commit (CtrdImage *self)
{
  return self->record->commit;
}

const char *
ctrd_image_get_object_path (CtrdImage *self)
{
  return self->object_path;
}

const CtrdImageRecord *
ctrd_image_get_record (CtrdImage *self)
{
  return self->record;
}

gboolean
ctrd_image_has_name (CtrdImage *self, const char *name)
{
  return g_strv_contains ((const char *const *) self->record->names, name);
}

void
ctrd_image_set_names (CtrdImage *self, const char *const *names)
{
  g_strfreev (self->record->names);
  self->record->names = g_strdupv ((char **) names);
  ctr_image_set_names (CTR_IMAGE (self), names);
}

/* The "config" member of the OCI image config, where the defaults live. */
static JsonObject *
runtime_config (CtrdImage *self)
{
  JsonObject *root;
  JsonNode *node;

  if (self->config == NULL || !JSON_NODE_HOLDS_OBJECT (self->config))
    return NULL;
  root = json_node_get_object (self->config);
  node = json_object_get_member (root, "config");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return json_node_get_object (node);
}

/* Image configs are untrusted input: a member of the wrong type is ignored. */
static char **
dup_string_array (CtrdImage *self, const char *member)
{
  JsonObject *config = runtime_config (self);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  JsonNode *node = config != NULL ? json_object_get_member (config, member) : NULL;

  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);
          if (JSON_NODE_HOLDS_VALUE (element) && json_node_get_value_type (element) == G_TYPE_STRING)
            g_ptr_array_add (out, g_strdup (json_node_get_string (element)));
        }
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

static char *
dup_string (CtrdImage *self, const char *member)
{
  JsonObject *config = runtime_config (self);
  JsonNode *node = config != NULL ? json_object_get_member (config, member) : NULL;

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  return g_strdup ("");
}

char **
ctrd_image_dup_entrypoint (CtrdImage *self)
{
  return dup_string_array (self, "Entrypoint");
}

char **
ctrd_image_dup_cmd (CtrdImage *self)
{
  return dup_string_array (self, "Cmd");
}

char **
ctrd_image_dup_env (CtrdImage *self)
{
  return dup_string_array (self, "Env");
}

char *
ctrd_image_dup_working_dir (CtrdImage *self)
{
  return dup_string (self, "WorkingDir");
}

char *
ctrd_image_dup_user (CtrdImage *self)
{
  return dup_string (self, "User");
}

char *
ctrd_image_dup_stop_signal (CtrdImage *self)
{
  return dup_string (self, "StopSignal");
}
