/* ctrd-hooks.c: OCI hooks from hooks.d directories (oci-hooks(5), schema
 * 1.0.0), matched per container as podman's pkg/hooks does, and the
 * poststop runner of the seed's postDeleteHooks. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-hooks.h"
#include "ctrd-json.h"
#include "ctrd-util.h"

#define HOOK_SCHEMA_VERSION "1.0.0"
#define OCI_VERSION "1.0.2"
/* what a failed hook printed, in the log */
#define MAX_LOGGED_OUTPUT 4096

static const char *const stage_names[] = {
  [CTRD_HOOK_PRESTART] = "prestart",
  [CTRD_HOOK_CREATE_RUNTIME] = "createRuntime",
  [CTRD_HOOK_CREATE_CONTAINER] = "createContainer",
  [CTRD_HOOK_START_CONTAINER] = "startContainer",
  [CTRD_HOOK_POSTSTART] = "poststart",
  [CTRD_HOOK_POSTSTOP] = "poststop",
};

G_STATIC_ASSERT (G_N_ELEMENTS (stage_names) == CTRD_HOOK_N_STAGES);

const char *
ctrd_hook_stage_to_string (CtrdHookStage stage)
{
  if ((guint) stage >= CTRD_HOOK_N_STAGES)
    return "unknown";
  return stage_names[stage];
}

static gboolean
stage_from_string (const char *text, CtrdHookStage *out_stage)
{
  for (guint i = 0; i < CTRD_HOOK_N_STAGES; i++)
    {
      if (g_str_equal (text, stage_names[i]))
        {
          *out_stage = (CtrdHookStage) i;
          return TRUE;
        }
    }
  return FALSE;
}

/* ------------------------------------------------------------ hooks and sets */

static void
hook_free (CtrdHook *hook)
{
  if (hook == NULL)
    return;
  g_free (hook->path);
  g_strfreev (hook->args);
  g_strfreev (hook->env);
  g_free (hook);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdHook, hook_free)

static CtrdHook *
hook_copy (const CtrdHook *hook)
{
  CtrdHook *copy = g_new0 (CtrdHook, 1);

  copy->path = g_strdup (hook->path);
  copy->args = g_strdupv (hook->args);
  copy->env = g_strdupv (hook->env);
  copy->timeout = hook->timeout;
  return copy;
}

CtrdHookSet *
ctrd_hook_set_new (void)
{
  CtrdHookSet *set = g_new0 (CtrdHookSet, 1);

  for (guint i = 0; i < CTRD_HOOK_N_STAGES; i++)
    set->stages[i] = g_ptr_array_new_with_free_func ((GDestroyNotify) hook_free);
  return set;
}

void
ctrd_hook_set_free (CtrdHookSet *set)
{
  if (set == NULL)
    return;
  for (guint i = 0; i < CTRD_HOOK_N_STAGES; i++)
    g_clear_pointer (&set->stages[i], g_ptr_array_unref);
  g_free (set);
}

gboolean
ctrd_hook_set_is_empty (const CtrdHookSet *set)
{
  for (guint i = 0; i < CTRD_HOOK_N_STAGES; i++)
    if (set->stages[i]->len > 0)
      return FALSE;
  return TRUE;
}

static void
add_strv_member (JsonBuilder *builder, const char *member, char **strv)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (gsize i = 0; strv[i] != NULL; i++)
    json_builder_add_string_value (builder, strv[i]);
  json_builder_end_array (builder);
}

/* {"prestart": [{"path", "args", "env", "timeout"}], ...}, the OCI form. */
static JsonNode *
hook_set_to_node (const CtrdHookSet *set, gboolean with_poststop)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  for (guint stage = 0; stage < CTRD_HOOK_N_STAGES; stage++)
    {
      if (set->stages[stage]->len == 0 || (stage == CTRD_HOOK_POSTSTOP && !with_poststop))
        continue;
      json_builder_set_member_name (builder, stage_names[stage]);
      json_builder_begin_array (builder);
      for (guint i = 0; i < set->stages[stage]->len; i++)
        {
          const CtrdHook *hook = g_ptr_array_index (set->stages[stage], i);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "path");
          json_builder_add_string_value (builder, hook->path);
          if (hook->args[0] != NULL)
            add_strv_member (builder, "args", hook->args);
          if (hook->env != NULL)
            add_strv_member (builder, "env", hook->env);
          if (hook->timeout > 0)
            {
              json_builder_set_member_name (builder, "timeout");
              json_builder_add_int_value (builder, hook->timeout);
            }
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

JsonNode *
ctrd_hook_set_to_spec_json (const CtrdHookSet *set)
{
  g_autoptr (JsonNode) node = NULL;

  if (set == NULL)
    return NULL;
  node = hook_set_to_node (set, FALSE);
  if (json_object_get_size (json_node_get_object (node)) == 0)
    return NULL;
  return g_steal_pointer (&node);
}

char *
ctrd_hook_set_to_json (const CtrdHookSet *set)
{
  g_autoptr (JsonNode) node = hook_set_to_node (set, TRUE);

  return json_to_string (node, FALSE);
}

/* ------------------------------------------------------------ JSON reading */

static gboolean
invalid (GError **error, const char *what, const char *problem)
{
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "%s %s", what, problem);
  return FALSE;
}

/* The OCI hook object {path, args, env, timeout}. */
static CtrdHook *
hook_from_object (JsonNode *node, GError **error)
{
  g_autoptr (CtrdHook) hook = g_new0 (CtrdHook, 1);
  JsonObject *object;
  JsonNode *member;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      invalid (error, "hook", "is not an object");
      return NULL;
    }
  object = json_node_get_object (node);
  member = json_object_get_member (object, "path");
  if (member == NULL || !JSON_NODE_HOLDS_VALUE (member) ||
      json_node_get_value_type (member) != G_TYPE_STRING)
    {
      invalid (error, "hook.path", "is missing or not a string");
      return NULL;
    }
  hook->path = g_strdup (json_node_get_string (member));
  if (!g_path_is_absolute (hook->path))
    {
      invalid (error, "hook.path", "is not an absolute path");
      return NULL;
    }
  if (!ctrd_json_read_strv (object, "hook", "args", &hook->args, error) ||
      !ctrd_json_read_strv (object, "hook", "env", &hook->env, error))
    return NULL;
  if (hook->args == NULL)
    hook->args = g_new0 (char *, 1);

  member = json_object_get_member (object, "timeout");
  if (member != NULL)
    {
      gint64 timeout;

      if (!JSON_NODE_HOLDS_VALUE (member) || json_node_get_value_type (member) != G_TYPE_INT64)
        {
          invalid (error, "hook.timeout", "is not an integer");
          return NULL;
        }
      timeout = json_node_get_int (member);
      if (timeout < 1 || timeout > G_MAXINT32)
        {
          invalid (error, "hook.timeout", "must be a positive number of seconds");
          return NULL;
        }
      hook->timeout = (guint) timeout;
    }
  return g_steal_pointer (&hook);
}

static JsonNode *
parse_json_object (const char *text, gssize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;

  if (!json_parser_load_from_data (parser, text, len, &local_error))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "is not valid JSON: %s",
                   local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      invalid (error, "the document", "is not a JSON object");
      return NULL;
    }
  return json_node_copy (root);
}

CtrdHookSet *
ctrd_hook_set_from_json (const char *json, GError **error)
{
  g_autoptr (CtrdHookSet) set = ctrd_hook_set_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GList) members = NULL;
  JsonObject *object;

  root = parse_json_object (json != NULL ? json : "", -1, error);
  if (root == NULL)
    {
      g_prefix_error (error, "Saved hooks: ");
      return NULL;
    }
  object = json_node_get_object (root);
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (object, l->data);
      CtrdHookStage stage;
      JsonArray *array;

      if (!stage_from_string (l->data, &stage) || !JSON_NODE_HOLDS_ARRAY (node))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Saved hooks: unexpected member “%s”", (const char *) l->data);
          return NULL;
        }
      array = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          CtrdHook *hook = hook_from_object (json_array_get_element (array, i), error);

          if (hook == NULL)
            {
              g_prefix_error (error, "Saved hooks: ");
              return NULL;
            }
          g_ptr_array_add (set->stages[stage], hook);
        }
    }
  return g_steal_pointer (&set);
}

/* ------------------------------------------------------------ hook files */

typedef struct
{
  char *file_name;
  CtrdHook *hook;
  gboolean stages[CTRD_HOOK_N_STAGES];
  int always;          /* -1 unset, else the value */
  int has_bind_mounts; /* -1 unset, else the value */
  gboolean or ;
  GPtrArray *annotation_keys;   /* GRegex* */
  GPtrArray *annotation_values; /* GRegex*, same index */
  GPtrArray *commands;          /* GRegex* */
} HookFile;

static void
hook_file_free (HookFile *file)
{
  if (file == NULL)
    return;
  g_free (file->file_name);
  hook_free (file->hook);
  g_clear_pointer (&file->annotation_keys, g_ptr_array_unref);
  g_clear_pointer (&file->annotation_values, g_ptr_array_unref);
  g_clear_pointer (&file->commands, g_ptr_array_unref);
  g_free (file);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HookFile, hook_file_free)

struct _CtrdHooks
{
  GHashTable *files; /* file name -> HookFile* */
};

static GRegex *
compile_pattern (const char *pattern, const char *what, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  GRegex *regex = g_regex_new (pattern, G_REGEX_DEFAULT, G_REGEX_MATCH_DEFAULT, &local_error);

  if (regex == NULL)
    {
      g_autofree char *quoted = ctrd_quote_untrusted (pattern);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "%s %s does not compile: %s",
                   what, quoted, local_error->message);
    }
  return regex;
}

static gboolean
read_optional_bool (JsonObject *object, const char *member, int *out, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *out = -1;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return invalid (error, member, "is not a boolean");
  *out = json_node_get_boolean (node) ? 1 : 0;
  return TRUE;
}

static gboolean
read_when (HookFile *file, JsonNode *node, GError **error)
{
  JsonObject *when;
  JsonNode *member;
  int or_value;
  g_auto (GStrv) commands = NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, "when", "is missing or not an object");
  when = json_node_get_object (node);
  if (!read_optional_bool (when, "always", &file->always, error) ||
      !read_optional_bool (when, "hasBindMounts", &file->has_bind_mounts, error) ||
      !read_optional_bool (when, "or", &or_value, error) ||
      !ctrd_json_read_strv (when, "when", "commands", &commands, error))
    return FALSE;
  file->or = or_value == 1;

  for (gsize i = 0; commands != NULL && commands[i] != NULL; i++)
    {
      GRegex *regex = compile_pattern (commands[i], "when.commands entry", error);

      if (regex == NULL)
        return FALSE;
      g_ptr_array_add (file->commands, regex);
    }

  member = json_object_get_member (when, "annotations");
  if (member != NULL)
    {
      JsonObject *annotations;
      g_autoptr (GList) keys = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (member))
        return invalid (error, "when.annotations", "is not an object");
      annotations = json_node_get_object (member);
      keys = json_object_get_members (annotations);
      for (GList *l = keys; l != NULL; l = l->next)
        {
          JsonNode *value = json_object_get_member (annotations, l->data);
          GRegex *key_regex;
          GRegex *value_regex;

          if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
            return invalid (error, "when.annotations", "has a value that is not a string");
          key_regex = compile_pattern (l->data, "when.annotations key", error);
          if (key_regex == NULL)
            return FALSE;
          g_ptr_array_add (file->annotation_keys, key_regex);
          value_regex =
              compile_pattern (json_node_get_string (value), "when.annotations value", error);
          if (value_regex == NULL)
            return FALSE;
          g_ptr_array_add (file->annotation_values, value_regex);
        }
    }
  return TRUE;
}

/* podman's hooks/1.0.0 Read + Validate. */
static HookFile *
hook_file_parse (const char *file_name, const char *text, gsize len, GError **error)
{
  g_autoptr (HookFile) file = g_new0 (HookFile, 1);
  g_autoptr (JsonNode) root = NULL;
  g_auto (GStrv) stages = NULL;
  JsonObject *object;
  JsonNode *member;
  struct stat st;

  file->file_name = g_strdup (file_name);
  file->annotation_keys = g_ptr_array_new_with_free_func ((GDestroyNotify) g_regex_unref);
  file->annotation_values = g_ptr_array_new_with_free_func ((GDestroyNotify) g_regex_unref);
  file->commands = g_ptr_array_new_with_free_func ((GDestroyNotify) g_regex_unref);

  root = parse_json_object (text, (gssize) len, error);
  if (root == NULL)
    return NULL;
  object = json_node_get_object (root);

  member = json_object_get_member (object, "version");
  if (member == NULL || !JSON_NODE_HOLDS_VALUE (member) ||
      json_node_get_value_type (member) != G_TYPE_STRING ||
      !g_str_equal (json_node_get_string (member), HOOK_SCHEMA_VERSION))
    {
      invalid (error, "version", "is not \"" HOOK_SCHEMA_VERSION "\"");
      return NULL;
    }

  member = json_object_get_member (object, "hook");
  if (member == NULL)
    {
      invalid (error, "hook", "is missing");
      return NULL;
    }
  file->hook = hook_from_object (member, error);
  if (file->hook == NULL)
    return NULL;
  if (stat (file->hook->path, &st) != 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_INVALID_ARGUMENT, "hook.path %s",
                                  file->hook->path),
           NULL;

  if (!read_when (file, json_object_get_member (object, "when"), error))
    return NULL;

  if (!json_object_has_member (object, "stages"))
    {
      invalid (error, "stages", "is missing");
      return NULL;
    }
  if (!ctrd_json_read_strv (object, "hook file", "stages", &stages, error))
    return NULL;
  for (gsize i = 0; stages[i] != NULL; i++)
    {
      CtrdHookStage stage;

      if (!stage_from_string (stages[i], &stage))
        {
          g_autofree char *quoted = ctrd_quote_untrusted (stages[i]);
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "unknown stage %s", quoted);
          return NULL;
        }
      file->stages[stage] = TRUE;
    }
  return g_steal_pointer (&file);
}

static gboolean
read_hook_file (int dfd, const char *name, char **out_text, gsize *out_len, GError **error)
{
  g_autoptr (GMappedFile) mapped = NULL;
  struct stat st;
  ctrd_autofd int fd = -1;

  fd = openat (dfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) != 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_NOT_FOUND, "cannot open");
  if (!S_ISREG (st.st_mode) || st.st_size > CTRD_HOOKS_MAX_FILE_SIZE)
    return invalid (error, "the file", "is not a regular file of at most 1 MiB");
  mapped = g_mapped_file_new_from_fd (fd, FALSE, error);
  if (mapped == NULL)
    return FALSE;
  *out_len = g_mapped_file_get_length (mapped);
  *out_text = g_strndup (g_mapped_file_get_contents (mapped), *out_len);
  return TRUE;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
load_directory (CtrdHooks *hooks, const char *dir)
{
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GError) list_error = NULL;
  ctrd_autofd int dfd = -1;

  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    {
      if (errno != ENOENT)
        g_warning ("OCI hooks directory %s: %s", dir, g_strerror (errno));
      return;
    }
  /* sorted: the same files always log the same way */
  names = ctrd_list_dir_at (dfd, dir, &list_error);
  if (names == NULL)
    {
      g_warning ("OCI hooks: %s", list_error->message);
      return;
    }

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autoptr (GError) error = NULL;
      g_autofree char *text = NULL;
      gsize len = 0;
      HookFile *file = NULL;

      if (!g_str_has_suffix (name, ".json"))
        continue;
      if (read_hook_file (dfd, name, &text, &len, &error))
        file = hook_file_parse (name, text, len, &error);
      if (file == NULL)
        {
          g_warning ("OCI hook %s/%s skipped: %s", dir, name, error->message);
          continue;
        }
      g_hash_table_replace (hooks->files, file->file_name, file);
    }
}

CtrdHooks *
ctrd_hooks_load (const char *const *dirs)
{
  static const char *const default_dirs[] = CTRD_HOOKS_DEFAULT_DIRS;
  CtrdHooks *hooks = g_new0 (CtrdHooks, 1);

  hooks->files =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) hook_file_free);
  if (dirs == NULL)
    dirs = default_dirs;
  for (gsize i = 0; dirs[i] != NULL; i++)
    load_directory (hooks, dirs[i]);
  return hooks;
}

void
ctrd_hooks_free (CtrdHooks *hooks)
{
  if (hooks == NULL)
    return;
  g_clear_pointer (&hooks->files, g_hash_table_unref);
  g_free (hooks);
}

guint
ctrd_hooks_get_n_loaded (CtrdHooks *hooks)
{
  return g_hash_table_size (hooks->files);
}

/* ------------------------------------------------------------ matching */

static gboolean
annotation_matches (GHashTable *annotations, GRegex *key_regex, GRegex *value_regex)
{
  GHashTableIter iter;
  gpointer key, value;

  if (annotations == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, annotations);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (g_regex_match (key_regex, key, 0, NULL) && g_regex_match (value_regex, value, 0, NULL))
      return TRUE;
  return FALSE;
}

/* podman's When.Match: without "or" every condition given must hold (and at
 * least one must be given); with "or" any one is enough. "commands" is
 * decided last and alone, as there. */
static gboolean
hook_file_matches (const HookFile *file, const CtrdHookContext *context)
{
  guint matches = 0;

  if (file->always >= 0)
    {
      if (file->always == 1 && file->or)
        return TRUE;
      if (file->always == 1)
        matches++;
      else if (!file->or)
        return FALSE;
    }
  if (file->has_bind_mounts >= 0)
    {
      gboolean hit = file->has_bind_mounts == 1 && context->has_bind_mounts;

      if (hit && file->or)
        return TRUE;
      if (hit)
        matches++;
      else if (!file->or)
        return FALSE;
    }
  for (guint i = 0; i < file->annotation_keys->len; i++)
    {
      gboolean hit =
          annotation_matches (context->annotations, g_ptr_array_index (file->annotation_keys, i),
                              g_ptr_array_index (file->annotation_values, i));

      if (hit && file->or)
        return TRUE;
      if (hit)
        matches++;
      else if (!file->or)
        return FALSE;
    }
  if (file->commands->len > 0 && context->argv != NULL && context->argv[0] != NULL)
    {
      for (guint i = 0; i < file->commands->len; i++)
        if (g_regex_match (g_ptr_array_index (file->commands, i), context->argv[0], 0, NULL))
          return TRUE;
      return FALSE;
    }
  return matches > 0;
}

CtrdHookSet *
ctrd_hooks_match (CtrdHooks *hooks, const CtrdHookContext *context)
{
  CtrdHookSet *set = ctrd_hook_set_new ();
  g_autofree gpointer *names = NULL;
  guint n_names = 0;

  names = g_hash_table_get_keys_as_array (hooks->files, &n_names);
  /* oci-hooks(5): hooks run in the lexical order of their file names */
  qsort (names, n_names, sizeof (gpointer), compare_names);
  for (guint i = 0; i < n_names; i++)
    {
      const HookFile *file = g_hash_table_lookup (hooks->files, names[i]);

      if (!hook_file_matches (file, context))
        continue;
      for (guint stage = 0; stage < CTRD_HOOK_N_STAGES; stage++)
        if (file->stages[stage])
          g_ptr_array_add (set->stages[stage], hook_copy (file->hook));
    }
  return set;
}

char *
ctrd_hooks_state_json (const char *id, const char *bundle, GHashTable *annotations)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GList) keys = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "ociVersion");
  json_builder_add_string_value (builder, OCI_VERSION);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "stopped");
  json_builder_set_member_name (builder, "bundle");
  json_builder_add_string_value (builder, bundle);
  json_builder_set_member_name (builder, "annotations");
  json_builder_begin_object (builder);
  if (annotations != NULL)
    keys = g_list_sort (g_hash_table_get_keys (annotations), (GCompareFunc) strcmp);
  for (GList *l = keys; l != NULL; l = l->next)
    {
      json_builder_set_member_name (builder, l->data);
      json_builder_add_string_value (builder, g_hash_table_lookup (annotations, l->data));
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

/* ------------------------------------------------------------ poststop runner */

typedef struct
{
  GPtrArray *hooks; /* CtrdHook*, copies */
  guint next;
  int state_fd; /* sealed memfd with the state JSON */
  GError *first_error;
  /* the hook running now */
  const CtrdHook *current;
  GPid pid;
  int output_fd;
  GSource *timeout_source;
  GSource *cancel_source;
  gboolean timed_out;
} PoststopRun;

static void
poststop_run_free (PoststopRun *run)
{
  g_clear_pointer (&run->hooks, g_ptr_array_unref);
  ctrd_close_fd (&run->state_fd);
  ctrd_close_fd (&run->output_fd);
  g_clear_error (&run->first_error);
  g_free (run);
}

static void run_next_hook (GTask *task);

/* A memfd holding @data and sealed, so that no hook can change what the next
 * one reads; with @data NULL an empty, writable one (for a hook's output). */
static int
make_memfd (const char *name, const char *data, GError **error)
{
  gsize len = data != NULL ? strlen (data) : 0;
  ctrd_autofd int fd = memfd_create (name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

  if (fd < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_RUNTIME_ERROR, "memfd_create"), -1;
  if (!ctrd_fd_write_all (fd, data, len, NULL, NULL))
    return ctrd_throw_errno_code (error, CTRD_ERROR_RUNTIME_ERROR, "Writing the hook state"), -1;
  if (data != NULL)
    (void) fcntl (fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  return ctrd_steal_fd (&fd);
}

static void
log_hook_output (const CtrdHook *hook, int output_fd)
{
  char buffer[MAX_LOGGED_OUTPUT + 1];
  ssize_t n;

  n = pread (output_fd, buffer, MAX_LOGGED_OUTPUT, 0);
  if (n <= 0)
    return;
  buffer[n] = '\0';
  g_warning ("OCI poststop hook %s printed: %s", hook->path, buffer);
}

static void
record_failure (PoststopRun *run, GError *error)
{
  g_warning ("%s", error->message);
  if (run->first_error == NULL)
    run->first_error = error;
  else
    g_error_free (error);
}

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
finish_current_hook (GTask *task)
{
  PoststopRun *run = g_task_get_task_data (task);

  clear_source (&run->timeout_source);
  clear_source (&run->cancel_source);
  ctrd_close_fd (&run->output_fd);
  run->current = NULL;
  run->pid = 0;
}

/* CANCELLED of our own domain, not G_IO_ERROR_CANCELLED. */
static gboolean
return_if_cancelled (GTask *task)
{
  if (!g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    return FALSE;
  g_task_return_new_error (task, CTRD_ERROR, CTRD_ERROR_CANCELLED, "OCI poststop hooks: cancelled");
  return TRUE;
}

static void
on_hook_exited (GPid pid, gint wait_status, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  PoststopRun *run = g_task_get_task_data (task);
  const CtrdHook *hook = run->current;
  g_autoptr (GError) status_error = NULL;

  g_spawn_close_pid (pid);
  if (return_if_cancelled (task))
    {
      finish_current_hook (task);
      return;
    }
  if (run->timed_out)
    {
      log_hook_output (hook, run->output_fd);
      record_failure (run, g_error_new (CTRD_ERROR, CTRD_ERROR_TIMEOUT,
                                        "OCI poststop hook %s: killed after its timeout of %u s",
                                        hook->path, hook->timeout));
    }
  else if (!g_spawn_check_wait_status (wait_status, &status_error))
    {
      log_hook_output (hook, run->output_fd);
      record_failure (run, g_error_new (CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                                        "OCI poststop hook %s failed: %s", hook->path,
                                        status_error->message));
    }
  finish_current_hook (task);
  run_next_hook (task);
}

static gboolean
on_hook_timeout (gpointer user_data)
{
  GTask *task = user_data;
  PoststopRun *run = g_task_get_task_data (task);

  run->timed_out = TRUE;
  if (run->pid > 0)
    kill (run->pid, SIGKILL);
  g_clear_pointer (&run->timeout_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

static gboolean
on_hook_cancelled (GCancellable *cancellable, gpointer user_data)
{
  GTask *task = user_data;
  PoststopRun *run = g_task_get_task_data (task);

  /* the child watch still reaps it and then completes the task */
  if (run->pid > 0)
    kill (run->pid, SIGKILL);
  g_clear_pointer (&run->cancel_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

static gboolean
spawn_hook (GTask *task, const CtrdHook *hook, GError **error)
{
  PoststopRun *run = g_task_get_task_data (task);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSource) child_source = NULL;

  run->output_fd = make_memfd ("hook-output", NULL, error);
  if (run->output_fd < 0)
    return FALSE;
  if (lseek (run->state_fd, 0, SEEK_SET) < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_RUNTIME_ERROR, "Rewinding the hook state");

  /* G_SPAWN_FILE_AND_ARGV_ZERO: the program, then its own argv, so that
   * args[0] reaches it as argv[0] as the OCI spec has it (GSubprocess cannot
   * say that) */
  g_ptr_array_add (argv, hook->path);
  if (hook->args[0] != NULL)
    for (gsize i = 0; hook->args[i] != NULL; i++)
      g_ptr_array_add (argv, hook->args[i]);
  else
    g_ptr_array_add (argv, hook->path);
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_async_with_pipes_and_fds (
          "/", (const char *const *) argv->pdata, (const char *const *) hook->env,
          G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_FILE_AND_ARGV_ZERO, NULL, NULL, run->state_fd,
          run->output_fd, run->output_fd, NULL, NULL, 0, &run->pid, NULL, NULL, NULL, error))
    {
      g_prefix_error (error, "OCI poststop hook %s: ", hook->path);
      return FALSE;
    }

  run->current = hook;
  run->timed_out = FALSE;
  child_source = g_child_watch_source_new (run->pid);
  g_source_set_callback (child_source, (GSourceFunc) (void (*) (void)) on_hook_exited,
                         g_object_ref (task), NULL);
  g_source_attach (child_source, g_task_get_context (task));
  if (hook->timeout > 0)
    {
      run->timeout_source = g_timeout_source_new_seconds (hook->timeout);
      g_source_set_callback (run->timeout_source, on_hook_timeout, task, NULL);
      g_source_attach (run->timeout_source, g_task_get_context (task));
    }
  if (g_task_get_cancellable (task) != NULL)
    {
      run->cancel_source = g_cancellable_source_new (g_task_get_cancellable (task));
      g_source_set_callback (run->cancel_source, (GSourceFunc) (void (*) (void)) on_hook_cancelled,
                             task, NULL);
      g_source_attach (run->cancel_source, g_task_get_context (task));
    }
  return TRUE;
}

static void
run_next_hook (GTask *task)
{
  PoststopRun *run = g_task_get_task_data (task);

  while (run->next < run->hooks->len)
    {
      const CtrdHook *hook = g_ptr_array_index (run->hooks, run->next++);
      GError *error = NULL;

      if (return_if_cancelled (task))
        return;
      if (spawn_hook (task, hook, &error))
        return;
      finish_current_hook (task);
      record_failure (run,
                      g_error_new (CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR, "%s", error->message));
      g_error_free (error);
    }
  if (run->first_error != NULL)
    g_task_return_error (task, g_steal_pointer (&run->first_error));
  else
    g_task_return_boolean (task, TRUE);
}

void
ctrd_hooks_run_poststop_async (const CtrdHookSet *set, const char *state_json,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  PoststopRun *run = g_new0 (PoststopRun, 1);
  GError *error = NULL;

  g_task_set_source_tag (task, ctrd_hooks_run_poststop_async);
  /* a cancellation after the last hook finished changes nothing */
  g_task_set_check_cancellable (task, FALSE);
  run->hooks = g_ptr_array_new_with_free_func ((GDestroyNotify) hook_free);
  run->state_fd = -1;
  run->output_fd = -1;
  g_task_set_task_data (task, run, (GDestroyNotify) poststop_run_free);
  for (guint i = 0; set != NULL && i < set->stages[CTRD_HOOK_POSTSTOP]->len; i++)
    g_ptr_array_add (run->hooks,
                     hook_copy (g_ptr_array_index (set->stages[CTRD_HOOK_POSTSTOP], i)));

  run->state_fd = make_memfd ("hook-state", state_json != NULL ? state_json : "{}", &error);
  if (run->state_fd < 0)
    {
      g_task_return_error (task, error);
      return;
    }
  run_next_hook (task);
}

gboolean
ctrd_hooks_run_poststop_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
