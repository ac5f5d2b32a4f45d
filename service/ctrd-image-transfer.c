/* ctrd-image-transfer.c: pulls and pushes through skopeo (the work is in
 * core/ctrd-registry.c), and PruneImages.
 *
 * Credentials from the options live in a CtrdRegistryOptions until the
 * transfer ends and are wiped then; they are never logged, stored or put on
 * the bus (the Job carries only the operation and the image). */
#include "config.h"

#include "ctrd-authority.h"
#include "ctrd-error.h"
#include "ctrd-image-transfer.h"
#include "ctrd-job.h"
#include "ctrd-options.h"
#include "ctrd-registry.h"
#include "ctrd-util.h"

static const CtrdOptionSpec pull_options[] = {
  { "TlsVerify", "b" },
  { "Username", "s" },
  { "Password", "s" },
  { "Platform", "s" },
};

typedef struct
{
  CtrdDaemon *daemon;
  GDBusMethodInvocation *invocation;
  gboolean push;
  GPtrArray *refs; /* of CtrdRegistryReference: a pull tries each in order */
  CtrdRegistryOptions options;
  CtrdImportLimits limits;
  CtrdImage *image; /* push: the image (held) */
  char *commit;     /* push */
  char *config_json;
  guint64 size;
  CtrdJob *job;
} TransferData;

static void
transfer_data_free (TransferData *data)
{
  ctrd_registry_options_clear (&data->options);
  g_ptr_array_unref (data->refs);
  if (data->image != NULL && data->job != NULL)
    ctrd_image_release (data->image);
  g_clear_object (&data->image);
  g_free (data->commit);
  g_free (data->config_json);
  g_clear_object (&data->job);
  g_free (data);
}

/* Checks the options both transfers take (@platform_allowed: Platform too)
 * into @data->options. */
static gboolean
parse_transfer_options (GVariant *options, gboolean platform_allowed, const char *what,
                        CtrdRegistryOptions *out, GError **error)
{
  const char *username = NULL;
  const char *password = NULL;
  const char *platform = NULL;

  if (!ctrd_validate_options (options, pull_options,
                              G_N_ELEMENTS (pull_options) - (platform_allowed ? 0 : 1), what,
                              error))
    return FALSE;
  out->tls_verify = TRUE;
  g_variant_lookup (options, "TlsVerify", "b", &out->tls_verify);
  g_variant_lookup (options, "Username", "&s", &username);
  g_variant_lookup (options, "Password", "&s", &password);
  g_variant_lookup (options, "Platform", "&s", &platform);
  if (!ctrd_registry_options_set (out, username, password, platform, error))
    {
      g_prefix_error (error, "%s: ", what);
      return FALSE;
    }
  return TRUE;
}

/* The references a pull of @reference tries: itself when it names a
 * registry, else it under each configured registry. */
static GPtrArray *
pull_candidates (CtrdConfig *config, const char *reference, GError **error)
{
  g_autoptr (GPtrArray) refs =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_registry_reference_free);
  g_autoptr (GError) local_error = NULL;
  CtrdRegistryReference *ref = ctrd_registry_reference_parse (reference, NULL, &local_error);

  if (ref != NULL || config->registries[0] == NULL)
    {
      if (ref == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      g_ptr_array_add (refs, ref);
      return g_steal_pointer (&refs);
    }
  for (guint i = 0; config->registries[i] != NULL; i++)
    {
      ref = ctrd_registry_reference_parse (reference, config->registries[i], error);
      if (ref == NULL)
        return NULL;
      g_ptr_array_add (refs, ref);
    }
  return g_steal_pointer (&refs);
}

/* ---------------------------------------------------------------- PullImage */

static void
pull_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  TransferData *data = task_data;
  CtrdStorage *storage = ctrd_daemon_get_storage (data->daemon);
  GError *error = NULL;

  for (guint i = 0; i < data->refs->len; i++)
    {
      CtrdImportResult *result;

      g_clear_error (&error);
      result = ctrd_registry_pull (storage, data->refs->pdata[i], &data->options, &data->limits,
                                   ctrd_job_progress_func, data->job, cancellable, &error);
      if (result != NULL)
        {
          /* Which candidate answered names the image. */
          g_ptr_array_remove_range (data->refs, 0, i);
          g_task_return_pointer (task, result, (GDestroyNotify) ctrd_import_result_free);
          return;
        }
      if (!g_error_matches (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND))
        break;
    }
  g_task_return_error (task, error);
}

static void
on_pulled (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TransferData *data = user_data;
  GDBusMethodInvocation *invocation = data->invocation;
  g_autoptr (CtrdImportResult) imported = NULL;
  g_autofree char *name = NULL;
  const char *names[] = { NULL, NULL };
  CtrdImage *image = NULL;
  GError *error = NULL;

  imported = g_task_propagate_pointer (G_TASK (result), &error);
  if (imported != NULL)
    {
      name = ctrd_registry_reference_image_name (data->refs->pdata[0]);
      names[0] = name;
      image = ctrd_image_publish (data->daemon, imported, names, &error);
    }
  if (error != NULL)
    {
      ctrd_error_normalize (&error, CTRD_ERROR_FAILED);
      ctrd_job_complete (data->job, error);
      ctrd_return_error (invocation, error, CTRD_ERROR_FAILED);
      transfer_data_free (data);
      return;
    }
  {
    g_autofree char *reference = ctrd_registry_reference_to_string (data->refs->pdata[0]);
    g_message ("Pulled image %.12s from %s", imported->image_id, reference);
  }
  ctrd_image_emit_event (image, "pull");
  ctrd_job_set_object (data->job, ctrd_image_get_object_path (image));
  ctrd_job_complete (data->job, NULL);
  g_dbus_method_invocation_return_value (invocation,
                                         g_variant_new ("(o)", ctrd_image_get_object_path (image)));
  transfer_data_free (data);
}

/* @user_data: the TransferData (taken). */
static void
pull_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  TransferData *data = user_data;
  CtrdConfig *config = ctrd_daemon_get_config (data->daemon);
  g_autoptr (GTask) task = NULL;
  GError *error = NULL;

  if (!ctrd_job_check_quota (invocation, "PullImage", &error))
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_LIMIT_EXCEEDED);
      transfer_data_free (data);
      return;
    }

  data->limits.max_bytes = config->import_max_bytes;
  data->limits.max_entries = config->import_max_entries;
  /* On the bus while it runs; Cancel, or the caller leaving, stops it. */
  data->job = ctrd_job_new (data->daemon, "pull", NULL, invocation);
  task = g_task_new (object, ctrd_job_get_cancellable (data->job), on_pulled, data);
  g_task_set_task_data (task, data, NULL);
  ctrd_daemon_run_transfer (data->daemon, g_steal_pointer (&task), pull_thread);
}

gboolean
ctrd_image_transfer_handle_pull (CtrdDaemon *daemon, gpointer manager,
                                 GDBusMethodInvocation *invocation, const char *reference,
                                 GVariant *options)
{
  TransferData *data = g_new0 (TransferData, 1);
  GError *error = NULL;

  data->daemon = daemon;
  data->invocation = invocation;
  data->refs = pull_candidates (ctrd_daemon_get_config (daemon), reference, &error);
  if (data->refs == NULL)
    {
      data->refs = g_ptr_array_new ();
      g_prefix_error (&error, "PullImage: ");
    }
  else
    parse_transfer_options (options, TRUE, "PullImage", &data->options, &error);
  data->options.skopeo = g_strdup (ctrd_daemon_get_config (daemon)->skopeo);
  if (error != NULL)
    {
      transfer_data_free (data);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  ctrd_authority_check (ctrd_daemon_get_authority (daemon), manager, invocation,
                        CTRD_ACTION_IMAGE_MANAGE, "image.name", reference, pull_authorized, data,
                        (GDestroyNotify) transfer_data_free);
  return TRUE;
}

/* ---------------------------------------------------------------- Push */

static void
push_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  TransferData *data = task_data;
  GError *error = NULL;

  if (!ctrd_registry_push (ctrd_daemon_get_storage (data->daemon), data->commit, data->config_json,
                           data->size, data->refs->pdata[0], &data->options, ctrd_job_progress_func,
                           data->job, cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_pushed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TransferData *data = user_data;
  g_autofree char *reference = ctrd_registry_reference_to_string (data->refs->pdata[0]);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      ctrd_error_normalize (&error, CTRD_ERROR_FAILED);
      ctrd_job_complete (data->job, error);
      ctrd_return_error (data->invocation, error, CTRD_ERROR_FAILED);
      transfer_data_free (data);
      return;
    }
  g_message ("Pushed image %.12s to %s", ctrd_image_get_id (data->image), reference);
  ctrd_image_emit_event (data->image, "push");
  ctrd_job_complete (data->job, NULL);
  g_dbus_method_invocation_return_value (data->invocation, NULL);
  transfer_data_free (data);
}

static void
push_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  TransferData *data = user_data;
  CtrdImage *image = object;
  const CtrdImageRecord *record = ctrd_image_get_record (image);
  g_autoptr (GTask) task = NULL;
  GError *error = NULL;

  if (!ctrd_job_check_quota (invocation, "Push", &error))
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_LIMIT_EXCEEDED);
      transfer_data_free (data);
      return;
    }
  if (ctrd_daemon_get_image_by_id (data->daemon, record->id) != image)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                             "Image %.12s was removed", record->id);
      transfer_data_free (data);
      return;
    }
  data->image = g_object_ref (image);
  data->commit = g_strdup (record->commit);
  data->config_json = g_strdup (record->config_json);
  data->size = record->size;
  data->job = ctrd_job_new (data->daemon, "push", ctrd_image_get_object_path (image), invocation);
  ctrd_image_hold (image);
  task = g_task_new (image, ctrd_job_get_cancellable (data->job), on_pushed, data);
  g_task_set_task_data (task, data, NULL);
  ctrd_daemon_run_transfer (data->daemon, g_steal_pointer (&task), push_thread);
}

gboolean
ctrd_image_transfer_handle_push (CtrdDaemon *daemon, CtrdImage *image,
                                 GDBusMethodInvocation *invocation, const char *destination,
                                 GVariant *options)
{
  TransferData *data = g_new0 (TransferData, 1);
  const CtrdImageRecord *record = ctrd_image_get_record (image);
  CtrdRegistryReference *ref;
  GError *error = NULL;

  data->daemon = daemon;
  data->invocation = invocation;
  data->push = TRUE;
  data->refs = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_registry_reference_free);
  ref = ctrd_registry_reference_parse (destination, NULL, &error);
  if (ref != NULL && ref->digest != NULL)
    {
      g_set_error (&error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "a push destination takes a tag, not a digest");
      g_clear_pointer (&ref, ctrd_registry_reference_free);
    }
  if (ref != NULL)
    {
      g_ptr_array_add (data->refs, ref);
      parse_transfer_options (options, FALSE, "Push", &data->options, &error);
    }
  data->options.skopeo = g_strdup (ctrd_daemon_get_config (daemon)->skopeo);
  if (error != NULL)
    {
      g_prefix_error (&error, "Push of image %.12s: ", record->id);
      transfer_data_free (data);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  ctrd_authority_check (ctrd_daemon_get_authority (daemon), image, invocation,
                        CTRD_ACTION_IMAGE_MANAGE, "image.name",
                        record->names[0] != NULL ? record->names[0] : record->id, push_authorized,
                        data, (GDestroyNotify) transfer_data_free);
  return TRUE;
}

/* ---------------------------------------------------------------- PruneImages */

static const CtrdOptionSpec prune_options[] = {
  { "All", "b" },
};

static void
on_images_pruned (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  /* The images are gone either way; what failed is housekeeping. */
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("Pruning images: %s", error->message);
}

static void
prune_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdDaemon *daemon = user_data;
  gboolean all = FALSE;
  g_autoptr (GPtrArray) images = ctrd_daemon_list_images (daemon);
  g_autoptr (GPtrArray) unused = g_ptr_array_new ();
  g_autoptr (GPtrArray) removed = NULL;
  g_autoptr (GError) error = NULL;
  GVariant *options =
      g_variant_get_child_value (g_dbus_method_invocation_get_parameters (invocation), 0);

  g_variant_lookup (options, "All", "b", &all);
  g_variant_unref (options);
  for (guint i = 0; i < images->len; i++)
    if ((all || ctrd_image_get_record (images->pdata[i])->names[0] == NULL) &&
        ctrd_image_is_unused (images->pdata[i]))
      g_ptr_array_add (unused, images->pdata[i]);
  if (unused->len > 0)
    removed = ctrd_image_remove_unused (daemon, unused, on_images_pruned, NULL, &error);
  if (error != NULL && removed == NULL)
    {
      ctrd_return_error (invocation, g_steal_pointer (&error), CTRD_ERROR_STORAGE_ERROR);
      return;
    }
  if (error != NULL)
    g_warning ("PruneImages: %s", error->message);
  if (removed == NULL)
    removed = g_ptr_array_new ();
  g_ptr_array_add (removed, NULL);
  g_message ("PruneImages removed %u images", removed->len - 1);
  g_dbus_method_invocation_return_value (invocation,
                                         g_variant_new ("(^as)", (char **) removed->pdata));
}

gboolean
ctrd_image_transfer_handle_prune (CtrdDaemon *daemon, gpointer manager,
                                  GDBusMethodInvocation *invocation, GVariant *options)
{
  GError *error = NULL;

  if (!ctrd_validate_options (options, prune_options, G_N_ELEMENTS (prune_options), "PruneImages",
                              &error))
    {
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  ctrd_authority_check (ctrd_daemon_get_authority (daemon), manager, invocation,
                        CTRD_ACTION_IMAGE_MANAGE, NULL, NULL, prune_authorized, daemon, NULL);
  return TRUE;
}
