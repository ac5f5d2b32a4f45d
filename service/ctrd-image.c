/* ctrd-image.c: one image object.
 *
 * Handlers follow the house pattern: validate every argument, authorize
 * (org.example.containers1.image.manage), look the image up again (it may
 * have been removed while polkit was asked), act, answer once. */
#include "config.h"

#include <unistd.h>

#include <gio/gunixfdlist.h>

#include "ctrd-container.h"
#include "ctrd-crash-point.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-image-archive.h"
#include "ctrd-image-transfer.h"
#include "ctrd-image.h"
#include "ctrd-job.h"
#include "ctrd-options.h"
#include "ctrd-util.h"

struct _CtrdImage
{
  CtrImageSkeleton parent_instance;

  CtrdDaemon *daemon; /* not owned: the daemon owns the image */
  CtrdImageRecord *record;
  char *object_path;
  CtrdImageConfig *config; /* parsed from record->config_json (untrusted) */
  guint exports_running;   /* Remove waits for none */
};

static void ctrd_image_iface_init (CtrImageIface *iface);

/* IDs whose ref and objects a worker is deleting (main thread only). An
 * import of the same image that ends meanwhile must not be published: its
 * ref goes too. Callbacks run in the order their workers finished, so the
 * import's completion is seen before the removal's. */
static GHashTable *removals_in_flight;

G_DEFINE_TYPE_WITH_CODE (CtrdImage, ctrd_image, CTR_TYPE_IMAGE_SKELETON,
                         G_IMPLEMENT_INTERFACE (CTR_TYPE_IMAGE, ctrd_image_iface_init))

static void
ctrd_image_finalize (GObject *object)
{
  CtrdImage *self = CTRD_IMAGE (object);

  g_clear_pointer (&self->record, ctrd_image_record_free);
  g_clear_pointer (&self->config, ctrd_image_config_free);
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

static GVariant *
labels_variant (GHashTable *labels)
{
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{ss}"));
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, labels);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_variant_builder_add (&builder, "{ss}", key, value);
  return g_variant_builder_end (&builder);
}

CtrdImage *
ctrd_image_new (CtrdDaemon *daemon, CtrdImageRecord *record)
{
  CtrdImage *self = g_object_new (CTRD_TYPE_IMAGE, NULL);
  CtrImage *iface = CTR_IMAGE (self);
  CtrdImageConfig *config;

  self->daemon = daemon;
  self->record = record;
  self->object_path = ctrd_image_path_for_id (record->id);
  self->config = ctrd_image_config_parse (record->config_json);
  config = self->config;

  g_object_freeze_notify (G_OBJECT (self));
  ctr_image_set_id (iface, record->id);
  ctr_image_set_names (iface, (const char *const *) record->names);
  ctr_image_set_commit (iface, record->commit);
  ctr_image_set_size (iface, record->size);
  ctr_image_set_created_at (iface, record->created_at);
  ctr_image_set_entrypoint (iface, (const char *const *) config->entrypoint);
  ctr_image_set_command (iface, (const char *const *) config->cmd);
  ctr_image_set_working_dir (iface, config->working_dir);
  ctr_image_set_user (iface, config->user);
  ctr_image_set_stop_signal (iface, config->stop_signal);
  ctr_image_set_exposed_ports (iface, (const char *const *) config->exposed_ports);
  ctr_image_set_volumes (iface, (const char *const *) config->volumes);
  ctr_image_set_labels (iface, labels_variant (config->labels));
  ctr_image_set_containers (iface, (const char *const[]){ NULL });
  g_object_thaw_notify (G_OBJECT (self));
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

/* The names of @image without @name. */
static char **
names_without (CtrdImage *image, const char *name)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; image->record->names[i] != NULL; i++)
    if (!g_str_equal (image->record->names[i], name))
      g_strv_builder_add (builder, image->record->names[i]);
  return g_strv_builder_end (builder);
}

static gboolean
store_names (CtrdImage *image, char **names, GError **error)
{
  if (!ctrd_db_set_image_names (ctrd_daemon_get_db (image->daemon), image->record->id,
                                (const char *const *) names, error))
    return FALSE;
  ctrd_image_set_names (image, (const char *const *) names);
  return TRUE;
}

gboolean
ctrd_image_add_name (CtrdImage *self, const char *name, GError **error)
{
  CtrdImage *previous_owner = ctrd_daemon_get_image_by_name (self->daemon, name);
  g_autoptr (GStrvBuilder) builder = NULL;
  g_auto (GStrv) names = NULL;

  if (previous_owner == self)
    return TRUE;
  if (previous_owner != NULL)
    {
      g_auto (GStrv) kept = names_without (previous_owner, name);
      if (!store_names (previous_owner, kept, error))
        return FALSE;
    }
  builder = g_strv_builder_new ();
  g_strv_builder_addv (builder, (const char **) self->record->names);
  g_strv_builder_add (builder, name);
  names = g_strv_builder_end (builder);
  return store_names (self, names, error);
}

CtrdImage *
ctrd_image_publish (CtrdDaemon *daemon, const CtrdImportResult *result, const char *const *names,
                    GError **error)
{
  CtrdImage *image = ctrd_daemon_get_image_by_id (daemon, result->image_id);

  if (removals_in_flight != NULL && g_hash_table_contains (removals_in_flight, result->image_id))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_IN_USE,
                   "Image %.12s was being removed meanwhile; import it again", result->image_id);
      return NULL;
    }
  if (image == NULL)
    {
      g_autoptr (CtrdImageRecord) record = g_new0 (CtrdImageRecord, 1);
      g_autoptr (CtrdImage) new_image = NULL;

      record->id = g_strdup (result->image_id);
      record->commit = g_strdup (result->commit);
      record->names = g_new0 (char *, 1);
      record->size = result->size;
      record->created_at = result->created_at;
      record->config_json = g_strdup (result->config_json);
      ctrd_crash_point ("image-committed");
      if (!ctrd_db_insert_image (ctrd_daemon_get_db (daemon), record, error))
        {
          g_autoptr (GError) ref_error = NULL;
          /* Nothing names the new commit then: the next prune takes it. */
          if (!ctrd_storage_delete_image_ref (ctrd_daemon_get_storage (daemon), result->image_id,
                                              &ref_error))
            g_warning ("%s", ref_error->message);
          return NULL;
        }
      new_image = ctrd_image_new (daemon, g_steal_pointer (&record));
      ctrd_daemon_add_image (daemon, new_image);
      ctrd_daemon_update_image_containers (daemon, result->image_id);
      image = new_image;
    }
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    if (!ctrd_image_add_name (image, names[i], error))
      return NULL;
  return image;
}

/* ---------------------------------------------------------------- defaults */

const CtrdImageConfig *
ctrd_image_get_config (CtrdImage *self)
{
  return self->config;
}

/* ---------------------------------------------------------------- handlers */

static void
return_error (GDBusMethodInvocation *invocation, GError *error, CtrdError fallback)
{
  ctrd_error_normalize (&error, fallback);
  g_dbus_method_invocation_return_gerror (invocation, error);
  g_error_free (error);
}

/* Still this daemon's image? It may have been removed while polkit was asked. */
static gboolean
check_still_published (CtrdImage *self, GDBusMethodInvocation *invocation)
{
  if (ctrd_daemon_get_image_by_id (self->daemon, self->record->id) == self)
    return TRUE;
  g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                         "Image %.12s was removed", self->record->id);
  return FALSE;
}

/* Asks polkit for @action_id for the caller, naming the image, then calls
 * @func on the main thread unless the image was removed meanwhile
 * (ctrd_authority_check with the image as the object). */
static void
authorize (CtrdImage *self, GDBusMethodInvocation *invocation, const char *action_id,
           CtrdAuthorizedFunc func, gpointer user_data, GDestroyNotify destroy)
{
  const char *label = self->record->names[0] != NULL ? self->record->names[0] : self->record->id;

  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), self, invocation, action_id,
                        "image.name", label, func, user_data, destroy);
}

/* Tag and Untag: a name[:tag] argument, normalised before authorizing. */
static gboolean
handle_name_call (CtrImage *iface, GDBusMethodInvocation *invocation, const char *name,
                  CtrdAuthorizedFunc func)
{
  GError *error = NULL;
  char *normalized = ctrd_normalize_image_name (name, &error);

  if (normalized == NULL)
    {
      g_prefix_error (&error, "%s: ", g_dbus_method_invocation_get_method_name (invocation));
      return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  authorize (CTRD_IMAGE (iface), invocation, CTRD_ACTION_IMAGE_MANAGE, func, normalized, g_free);
  return TRUE;
}

/* ---------------------------------------------------------------- Tag, Untag */

/* @user_data: the normalised name (taken). */
static void
tag_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdImage *self = object;
  g_autofree char *name = user_data;
  GError *error = NULL;

  if (!ctrd_image_add_name (self, name, &error))
    {
      return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }
  g_message ("Image %.12s tagged %s", self->record->id, name);
  ctrd_image_emit_event (self, "tag");
  ctr_image_complete_tag (CTR_IMAGE (self), invocation);
}

static gboolean
handle_tag (CtrImage *iface, GDBusMethodInvocation *invocation, const char *name)
{
  return handle_name_call (iface, invocation, name, tag_authorized);
}

/* @user_data: the normalised name (taken). */
static void
untag_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdImage *self = object;
  g_autofree char *name = user_data;
  GError *error = NULL;
  g_auto (GStrv) kept = NULL;

  if (!ctrd_image_has_name (self, name))
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                             "Image %.12s has no name %s", self->record->id, name);
      return;
    }
  kept = names_without (self, name);
  if (!store_names (self, kept, &error))
    {
      return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }
  g_message ("Image %.12s untagged %s", self->record->id, name);
  ctrd_image_emit_event (self, "untag");
  ctr_image_complete_untag (CTR_IMAGE (self), invocation);
}

static gboolean
handle_untag (CtrImage *iface, GDBusMethodInvocation *invocation, const char *name)
{
  return handle_name_call (iface, invocation, name, untag_authorized);
}

/* ---------------------------------------------------------------- Remove */

/* The containers created from @self (borrowed; a new array). */
static GPtrArray *
containers_using (CtrdImage *self)
{
  g_autoptr (GPtrArray) all = ctrd_daemon_list_containers (self->daemon);
  GPtrArray *users = g_ptr_array_new ();

  for (guint i = 0; i < all->len; i++)
    if (g_strcmp0 (ctrd_container_get_image_id (all->pdata[i]), self->record->id) == 0 ||
        /* kept for the container's Rollback */
        g_strcmp0 (ctrd_container_get_previous_image_id (all->pdata[i]), self->record->id) == 0)
      g_ptr_array_add (users, all->pdata[i]);
  return users;
}

typedef struct
{
  GPtrArray *ids;     /* of char*, the images taken off */
  GPtrArray *commits; /* of char*, their commits */
} PruneData;

static void
prune_data_free (PruneData *data)
{
  g_ptr_array_unref (data->ids);
  g_ptr_array_unref (data->commits);
  g_free (data);
}

/* Worker (each ref waits for any running import): the refs go, then what
 * only the removed images held goes from the repo, and their shared
 * checkouts with it (no container uses them: the caller checked, and no
 * other image has their commits, whose metadata holds their configs). */
static void
prune_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  PruneData *data = task_data;
  CtrdStorage *storage = ctrd_daemon_get_storage (source_object);
  GError *error = NULL;
  guint64 freed = 0;

  for (guint i = 0; i < data->ids->len; i++)
    if (!ctrd_storage_delete_image_ref (storage, data->ids->pdata[i], &error) ||
        !ctrd_storage_remove_checkout (storage, data->commits->pdata[i], NULL, &error))
      {
        g_task_return_error (task, error);
        return;
      }
  if (!ctrd_storage_prune (storage, &freed, NULL, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_message ("Removed %u images; pruning freed %" G_GUINT64_FORMAT " bytes", data->ids->len, freed);
  g_task_return_boolean (task, TRUE);
}

typedef struct
{
  GAsyncReadyCallback callback;
  gpointer user_data;
} RemovalDone;

static void
on_pruned (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RemovalDone *done = user_data;
  PruneData *data = g_task_get_task_data (G_TASK (result));

  for (guint i = 0; i < data->ids->len; i++)
    g_hash_table_remove (removals_in_flight, data->ids->pdata[i]);
  done->callback (source, result, done->user_data);
  g_free (done);
}

gboolean
ctrd_image_is_unused (CtrdImage *self)
{
  g_autoptr (GPtrArray) users = containers_using (self);

  return users->len == 0 && self->exports_running == 0;
}

void
ctrd_image_hold (CtrdImage *self)
{
  self->exports_running++;
}

void
ctrd_image_release (CtrdImage *self)
{
  self->exports_running--;
}

void
ctrd_image_emit_event (CtrdImage *self, const char *event)
{
  ctrd_daemon_emit_image_event (self->daemon, self->object_path, self->record->id, event);
}

GPtrArray *
ctrd_image_remove_unused (CtrdDaemon *daemon, GPtrArray *images, GAsyncReadyCallback callback,
                          gpointer user_data, GError **error)
{
  g_autoptr (GTask) task = NULL;
  PruneData *data;
  RemovalDone *done;
  GPtrArray *removed;

  if (removals_in_flight == NULL)
    removals_in_flight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  data = g_new0 (PruneData, 1);
  data->ids = g_ptr_array_new_with_free_func (g_free);
  data->commits = g_ptr_array_new_with_free_func (g_free);

  /* The database says what exists: first it, then the bus, then (in the
   * worker) the refs and the objects. */
  for (guint i = 0; i < images->len; i++)
    {
      CtrdImage *image = images->pdata[i];
      g_autoptr (CtrdImage) keep G_GNUC_UNUSED = g_object_ref (image);

      if (!ctrd_db_delete_image (ctrd_daemon_get_db (daemon), image->record->id, error))
        break;
      g_ptr_array_add (data->ids, g_strdup (image->record->id));
      g_ptr_array_add (data->commits, g_strdup (image->record->commit));
      g_hash_table_add (removals_in_flight, g_strdup (image->record->id));
      ctrd_daemon_remove_image (daemon, image);
      ctrd_image_emit_event (image, "remove");
    }
  if (data->ids->len == 0 && images->len > 0)
    {
      prune_data_free (data);
      return NULL;
    }
  removed = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < data->ids->len; i++)
    g_ptr_array_add (removed, g_strdup (data->ids->pdata[i]));
  done = g_new0 (RemovalDone, 1);
  done->callback = callback;
  done->user_data = user_data;
  task = g_task_new (daemon, NULL, on_pruned, done);
  g_task_set_task_data (task, data, (GDestroyNotify) prune_data_free);
  g_task_run_in_thread (task, prune_thread);
  return removed;
}

static void
on_removed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GDBusMethodInvocation *invocation = user_data;
  PruneData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  /* The image is gone either way; what failed is housekeeping. */
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("Cleaning up after image %.12s: %s", (const char *) data->ids->pdata[0],
               error->message);
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
remove_image_now (CtrdImage *self, GDBusMethodInvocation *invocation)
{
  g_autoptr (GPtrArray) users = containers_using (self);
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GPtrArray) removed = NULL;
  GError *error = NULL;

  if (users->len > 0)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_IN_USE,
                                             "Image %.12s is used by %u containers",
                                             self->record->id, users->len);
      return;
    }
  if (self->exports_running > 0)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_IN_USE,
                                             "Image %.12s is being exported", self->record->id);
      return;
    }
  images = g_ptr_array_new ();
  g_ptr_array_add (images, self);
  removed = ctrd_image_remove_unused (self->daemon, images, on_removed, invocation, &error);
  if (removed == NULL)
    return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
}

static void
on_users_removed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdImage *self = CTRD_IMAGE (source);
  GDBusMethodInvocation *invocation = user_data;
  GError *error = NULL;

  if (!ctrd_container_remove_all_finish (result, &error))
    return_error (invocation, error, CTRD_ERROR_IN_USE);
  else if (check_still_published (self, invocation))
    remove_image_now (self, invocation);
}

/* Authorized for container.create too: removes every container on the image
 * (killing running ones), then the image. */
static void
remove_users_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdImage *self = object;
  g_autoptr (GPtrArray) users = containers_using (self);

  if (users->len == 0)
    {
      remove_image_now (self, invocation);
      return;
    }
  ctrd_container_remove_all_async (users, TRUE, self, on_users_removed, invocation);
}

/* @user_data: force. */
static void
remove_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdImage *self = object;
  gboolean force = GPOINTER_TO_INT (user_data);
  g_autoptr (GPtrArray) users = containers_using (self);

  if (users->len > 0 && force)
    {
      /* Like podman rmi -f, which removes the containers: the caller must
       * be allowed to remove containers as well. */
      authorize (self, invocation, CTRD_ACTION_CONTAINER_CREATE, remove_users_authorized, NULL,
                 NULL);
      return;
    }
  remove_image_now (self, invocation);
}

static gboolean
handle_remove (CtrImage *iface, GDBusMethodInvocation *invocation, gboolean force)
{
  authorize (CTRD_IMAGE (iface), invocation, CTRD_ACTION_IMAGE_MANAGE, remove_authorized,
             GINT_TO_POINTER (force), NULL);
  return TRUE;
}

/* ---------------------------------------------------------------- Export */

typedef struct
{
  CtrdJob *job;
  int fd;
  CtrdImageFormat format;
  char *commit;
  char *config_json;
  char *name;
  guint64 size;
} ExportData;

static void
export_data_free (ExportData *data)
{
  ctrd_close_fd (&data->fd);
  g_clear_object (&data->job);
  g_free (data->commit);
  g_free (data->config_json);
  g_free (data->name);
  g_free (data);
}

static void
export_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  ExportData *data = task_data;
  CtrdImage *self = source_object;
  GError *error = NULL;

  if (!ctrd_image_archive_export (ctrd_daemon_get_storage (self->daemon), data->commit,
                                  data->config_json, data->name, data->format, data->fd, data->size,
                                  ctrd_job_progress_func, data->job, cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_exported (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdImage *self = CTRD_IMAGE (source);
  GDBusMethodInvocation *invocation = user_data;
  ExportData *data = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;

  self->exports_running--;
  /* Closed now, so the reader sees the end before the reply. */
  ctrd_close_fd (&data->fd);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      ctrd_error_normalize (&error, CTRD_ERROR_STORAGE_ERROR);
      g_prefix_error (&error, "Exporting image %.12s: ", self->record->id);
      ctrd_job_complete (data->job, error);
      return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }
  ctrd_job_complete (data->job, NULL);
  ctr_image_complete_export (CTR_IMAGE (self), invocation, NULL);
}

/* Takes @user_data, the ExportData holding the caller's fd, for the worker. */
static void
export_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdImage *self = object;
  ExportData *data = user_data;
  g_autoptr (GTask) task = NULL;
  GError *error = NULL;

  if (!ctrd_job_check_quota (invocation, "Export", &error))
    {
      return_error (invocation, error, CTRD_ERROR_LIMIT_EXCEEDED);
      export_data_free (data);
      return;
    }
  data->commit = g_strdup (self->record->commit);
  data->config_json = g_strdup (self->record->config_json);
  data->name = g_strdup (self->record->names[0]);
  data->size = self->record->size;
  data->job = ctrd_job_new (self->daemon, "export", self->object_path, invocation);
  self->exports_running++;
  task = g_task_new (self, ctrd_job_get_cancellable (data->job), on_exported, invocation);
  g_task_set_task_data (task, data, (GDestroyNotify) export_data_free);
  ctrd_daemon_run_transfer (self->daemon, g_steal_pointer (&task), export_thread);
}

static gboolean
handle_export (CtrImage *iface, GDBusMethodInvocation *invocation, GUnixFDList *fd_list,
               GVariant *fd_handle, const char *format)
{
  ExportData *data;
  GError *error = NULL;
  CtrdImageFormat parsed;
  int fd;

  if (!ctrd_image_format_parse (format, &parsed, &error) ||
      (parsed != CTRD_IMAGE_FORMAT_OCI_ARCHIVE && parsed != CTRD_IMAGE_FORMAT_ROOTFS_TAR))
    {
      g_clear_error (&error);
      g_autofree char *quoted = ctrd_quote_untrusted (format);
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                                             "Export: unsupported format %s (supported: "
                                             "oci-archive, rootfs-tar)",
                                             quoted);
      return TRUE;
    }
  fd = ctrd_take_fd_argument (fd_list, fd_handle, 1, CTRD_FD_WRITABLE | CTRD_FD_STREAM, "Export fd",
                              &error);
  if (fd < 0)
    {
      return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }

  data = g_new0 (ExportData, 1);
  data->fd = fd;
  data->format = parsed;
  authorize (CTRD_IMAGE (iface), invocation, CTRD_ACTION_IMAGE_MANAGE, export_authorized, data,
             (GDestroyNotify) export_data_free);
  return TRUE;
}

static gboolean
handle_push (CtrImage *iface, GDBusMethodInvocation *invocation, const char *destination,
             GVariant *options)
{
  CtrdImage *self = CTRD_IMAGE (iface);

  return ctrd_image_transfer_handle_push (self->daemon, self, invocation, destination, options);
}

static void
ctrd_image_iface_init (CtrImageIface *iface)
{
  iface->handle_push = handle_push;
  iface->handle_remove = handle_remove;
  iface->handle_tag = handle_tag;
  iface->handle_untag = handle_untag;
  iface->handle_export = handle_export;
}
