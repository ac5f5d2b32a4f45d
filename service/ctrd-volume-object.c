/* ctrd-volume-object.c: one volume object, the Manager's volume methods, and
 * the daemon's volume bookkeeping on the main thread.
 *
 * Handlers follow the house pattern: validate, authorize
 * (org.example.containers1.volume.manage), look the volume up again (it may
 * have gone while polkit was asked), act, answer once. Records are written
 * to the database before they are published; a volume's files are removed
 * in a worker before its record goes. While its removal runs a volume is
 * marked removing: no new container may mount it and no second removal
 * starts. */
#include "config.h"

#include "ctrd-container.h"
#include "ctrd-error.h"
#include "ctrd-options.h"
#include "ctrd-util.h"
#include "ctrd-volume-object.h"

struct _CtrdVolume
{
  CtrVolumeSkeleton parent_instance;

  CtrdDaemon *daemon; /* not owned: the daemon owns the volume */
  CtrdVolumeRecord *record;
  char *object_path;
  gboolean removed;
  gboolean removing; /* its files are being removed, or its users (forced) */
};

static void ctrd_volume_iface_init (CtrVolumeIface *iface);

G_DEFINE_TYPE_WITH_CODE (CtrdVolume, ctrd_volume, CTR_TYPE_VOLUME_SKELETON,
                         G_IMPLEMENT_INTERFACE (CTR_TYPE_VOLUME, ctrd_volume_iface_init))

static void
ctrd_volume_finalize (GObject *object)
{
  CtrdVolume *self = CTRD_VOLUME (object);

  g_clear_pointer (&self->record, ctrd_volume_record_free);
  g_free (self->object_path);
  G_OBJECT_CLASS (ctrd_volume_parent_class)->finalize (object);
}

static void
ctrd_volume_init (CtrdVolume *self)
{
}

static void
ctrd_volume_class_init (CtrdVolumeClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ctrd_volume_finalize;
}

char *
ctrd_volume_path_for_id (const char *id)
{
  return g_strconcat (CTRD_OBJECT_ROOT "/volumes/", id, NULL);
}

CtrdVolume *
ctrd_volume_new (CtrdDaemon *daemon, CtrdVolumeRecord *record)
{
  CtrdVolume *self = g_object_new (CTRD_TYPE_VOLUME, NULL);
  CtrVolume *iface = CTR_VOLUME (self);
  g_auto (GVariantBuilder) labels = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{ss}"));
  GHashTableIter iter;
  gpointer key, value;

  self->daemon = daemon;
  self->record = record;
  self->object_path = ctrd_volume_path_for_id (record->id);
  g_hash_table_iter_init (&iter, record->labels);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_variant_builder_add (&labels, "{ss}", key, value);

  g_object_freeze_notify (G_OBJECT (self));
  ctr_volume_set_id (iface, record->id);
  ctr_volume_set_name (iface, record->name);
  ctr_volume_set_anonymous (iface, record->anonymous);
  ctr_volume_set_labels (iface, g_variant_builder_end (&labels));
  ctr_volume_set_containers (iface, (const char *const[]){ NULL });
  ctr_volume_set_created_at (iface, record->created_at);
  g_object_thaw_notify (G_OBJECT (self));
  return self;
}

const char *
ctrd_volume_get_id (CtrdVolume *self)
{
  return self->record->id;
}

const char *
ctrd_volume_get_name (CtrdVolume *self)
{
  return self->record->name;
}

const char *
ctrd_volume_get_object_path (CtrdVolume *self)
{
  return self->object_path;
}

/* ---------------------------------------------------------------- users */

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* The containers whose Mounts use @self (borrowed; a new array). */
static GPtrArray *
containers_using (CtrdVolume *self)
{
  g_autoptr (GPtrArray) all = ctrd_daemon_list_containers (self->daemon);
  GPtrArray *users = g_ptr_array_new ();

  for (guint i = 0; i < all->len; i++)
    if (ctrd_volume_mounts_use (ctrd_container_get_mounts (all->pdata[i]), self->record->name))
      g_ptr_array_add (users, all->pdata[i]);
  return users;
}

void
ctrd_volume_update_containers (CtrdVolume *self)
{
  g_autoptr (GPtrArray) users = containers_using (self);
  g_autoptr (GPtrArray) paths = g_ptr_array_new ();

  for (guint i = 0; i < users->len; i++)
    g_ptr_array_add (paths, (gpointer) ctrd_container_get_object_path (users->pdata[i]));
  g_ptr_array_sort (paths, compare_strings);
  g_ptr_array_add (paths, NULL);
  ctr_volume_set_containers (CTR_VOLUME (self), (const char *const *) paths->pdata);
}

/* ---------------------------------------------------------------- bookkeeping */

static void
record_event (CtrdDaemon *daemon, const char *id, const char *event)
{
  ctrd_daemon_record_event (daemon, "volume", id, event, ctrd_now_usec ());
}

/* The volume entries of @mounts (CtrdMount*): each puts a container into a
 * volume's Containers. */
static guint
count_volume_mounts (GPtrArray *mounts)
{
  guint n = 0;

  for (guint i = 0; mounts != NULL && i < mounts->len; i++)
    n += ((const CtrdMount *) mounts->pdata[i])->type == CTRD_MOUNT_VOLUME;
  return n;
}

/* LIMIT_EXCEEDED when @records (CtrdVolumeRecord*) and @new_uses more
 * containers in Containers properties would take the volumes' objects over
 * their share of the bus. Counted anew each time: creations are rare
 * beside the containers there are. */
static gboolean
check_exported_budget (CtrdDaemon *daemon, GPtrArray *records, guint new_uses, GError **error)
{
  g_autoptr (GPtrArray) volumes = ctrd_daemon_list_volumes (daemon);
  g_autoptr (GPtrArray) containers = ctrd_daemon_list_containers (daemon);
  guint64 uses = new_uses;
  guint64 bytes = 0;

  for (guint i = 0; i < volumes->len; i++)
    bytes += ctrd_volume_record_exported_size (((CtrdVolume *) volumes->pdata[i])->record);
  for (guint i = 0; i < records->len; i++)
    bytes += ctrd_volume_record_exported_size (records->pdata[i]);
  for (guint i = 0; i < containers->len; i++)
    uses += count_volume_mounts (ctrd_container_get_mounts (containers->pdata[i]));
  bytes += uses * CTRD_VOLUME_USE_EXPORTED_BYTES;
  if (bytes <= CTRD_VOLUMES_EXPORTED_MAX_BYTES)
    return TRUE;
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
               "The %u volumes would take more than the limit of %" G_GUINT64_FORMAT
               " bytes on the bus: remove or prune some first",
               volumes->len + records->len, CTRD_VOLUMES_EXPORTED_MAX_BYTES);
  return FALSE;
}

/* Publishes the records (taken from @records, which is left empty). */
static void
publish_records (CtrdDaemon *daemon, GPtrArray *records, gboolean announce)
{
  while (records->len > 0)
    {
      g_autoptr (CtrdVolume) volume =
          ctrd_volume_new (daemon, g_ptr_array_steal_index (records, 0));

      if (announce)
        {
          g_message ("Created %s volume %s", volume->record->anonymous ? "anonymous" : "named",
                     volume->record->name);
          record_event (daemon, volume->record->id, "create");
        }
      ctrd_daemon_add_volume (daemon, volume);
    }
}

gboolean
ctrd_volume_load_all (CtrdDaemon *daemon, GError **error)
{
  g_autoptr (GPtrArray) records = ctrd_db_load_volumes (ctrd_daemon_get_db (daemon), error);
  g_autoptr (GPtrArray) containers = ctrd_daemon_list_containers (daemon);
  g_autoptr (GPtrArray) uses =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_volume_use_free);
  g_autoptr (GPtrArray) missing = NULL;
  g_auto (GStrv) on_disk = NULL;

  if (records == NULL)
    return FALSE;
  on_disk = ctrd_volumes_list (ctrd_daemon_get_volumes (daemon), error);
  if (on_disk == NULL)
    return FALSE;
  for (guint i = 0; i < containers->len; i++)
    ctrd_volume_uses_add_mounts (uses, ctrd_container_get_mounts (containers->pdata[i]));
  missing = ctrd_volume_records_missing (records, (const char *const *) on_disk, uses);
  if (missing->len > 0)
    {
      if (!ctrd_db_insert_volumes (ctrd_daemon_get_db (daemon), missing, error))
        return FALSE;
      g_message ("Recorded %u volumes that had no record yet", missing->len);
    }
  publish_records (daemon, records, FALSE);
  publish_records (daemon, missing, FALSE);
  return TRUE;
}

GPtrArray *
ctrd_volume_record_for_mounts (CtrdDaemon *daemon, GPtrArray *mounts, GError **error)
{
  g_autoptr (GPtrArray) uses =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_volume_use_free);
  g_autoptr (GPtrArray) records =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_volume_record_free);

  ctrd_volume_uses_add_mounts (uses, mounts);
  for (guint i = 0; i < uses->len; i++)
    {
      const CtrdVolumeUse *use = uses->pdata[i];
      CtrdVolume *volume = ctrd_daemon_get_volume_by_name (daemon, use->name);

      if (volume == NULL)
        g_ptr_array_add (records, ctrd_volume_record_new (use->name, use->anonymous));
      else if (volume->removing)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_STATE, "Volume %s is being removed",
                       use->name);
          return NULL;
        }
    }
  if (uses->len == 0)
    return g_steal_pointer (&records);
  if (!check_exported_budget (daemon, records, uses->len, error) ||
      (records->len > 0 && !ctrd_db_insert_volumes (ctrd_daemon_get_db (daemon), records, error)))
    return NULL;
  return g_steal_pointer (&records);
}

void
ctrd_volume_publish_records (CtrdDaemon *daemon, GPtrArray *records)
{
  publish_records (daemon, records, TRUE);
}

static char **
record_ids (GPtrArray *records)
{
  g_autoptr (GStrvBuilder) ids = g_strv_builder_new ();

  for (guint i = 0; i < records->len; i++)
    g_strv_builder_add (ids, ((CtrdVolumeRecord *) records->pdata[i])->id);
  return g_strv_builder_end (ids);
}

void
ctrd_volume_unrecord (CtrdDaemon *daemon, GPtrArray *records)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) ids = record_ids (records);

  if (ids[0] != NULL &&
      !ctrd_db_delete_volumes (ctrd_daemon_get_db (daemon), (const char *const *) ids, &error))
    g_warning ("Volumes of a container not created: %s", error->message);
}

/* Takes @volumes (CtrdVolume*, their files gone) off the database and the
 * bus, recording @event (and "prune" when @pruned) for each. */
static gboolean
forget_volumes (CtrdDaemon *daemon, GPtrArray *volumes, gboolean pruned, GError **error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) ids = NULL;

  for (guint i = 0; i < volumes->len; i++)
    g_strv_builder_add (builder, ctrd_volume_get_id (volumes->pdata[i]));
  ids = g_strv_builder_end (builder);
  if (ids[0] == NULL)
    return TRUE;
  if (!ctrd_db_delete_volumes (ctrd_daemon_get_db (daemon), (const char *const *) ids, error))
    return FALSE;
  for (guint i = 0; i < volumes->len; i++)
    {
      CtrdVolume *volume = volumes->pdata[i];

      g_message ("Removed volume %s", volume->record->name);
      volume->removed = TRUE;
      record_event (daemon, volume->record->id, "remove");
      if (pruned)
        record_event (daemon, volume->record->id, "prune");
      ctrd_daemon_remove_volume (daemon, volume);
    }
  return TRUE;
}

void
ctrd_volume_forget_removed (CtrdDaemon *daemon, const char *const *names)
{
  g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; names != NULL && names[i] != NULL; i++)
    {
      CtrdVolume *volume = ctrd_daemon_get_volume_by_name (daemon, names[i]);
      g_autoptr (GPtrArray) users = NULL;

      if (volume == NULL || volume->removed || volume->removing)
        continue;
      /* a container made meanwhile keeps the record (its files come back
       * at its start); a short stat: kept too if the removal failed */
      users = containers_using (volume);
      if (users->len == 0 && !ctrd_volumes_exists (ctrd_daemon_get_volumes (daemon), names[i]))
        g_ptr_array_add (gone, g_object_ref (volume));
    }
  if (!forget_volumes (daemon, gone, FALSE, &error))
    g_warning ("Volumes removed with their container: %s", error->message);
}

/* ---------------------------------------------------------------- removing files */

typedef struct
{
  GDBusMethodInvocation *invocation;
  GObject *answerer; /* the CtrdVolume (Remove) or the manager (PruneVolumes) */
  gboolean prune;
  GPtrArray *volumes;  /* CtrdVolume*, owned refs, marked removing */
  char **names;        /* theirs, for the worker */
  gboolean *gone;      /* worker: whether each one's files are gone */
  GError *first_error; /* worker */
} Removal;

static void
removal_free (Removal *removal)
{
  g_clear_object (&removal->answerer);
  g_ptr_array_unref (removal->volumes);
  g_strfreev (removal->names);
  g_free (removal->gone);
  g_clear_error (&removal->first_error);
  g_free (removal);
}

static void
remove_files_thread (GTask *task, gpointer source_object, gpointer task_data,
                     GCancellable *cancellable)
{
  Removal *removal = task_data;
  CtrdVolumes *volumes = ctrd_daemon_get_volumes (source_object);

  for (guint i = 0; removal->names[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;

      /* never used yet: no files to remove */
      removal->gone[i] = ctrd_volumes_remove (volumes, removal->names[i], NULL, &error) ||
                         g_error_matches (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
      if (!removal->gone[i] && removal->first_error == NULL)
        removal->first_error = g_steal_pointer (&error);
      else if (!removal->gone[i])
        g_warning ("Volume %s: %s", removal->names[i], error->message);
    }
  g_task_return_boolean (task, TRUE);
}

static void
answer_removal (Removal *removal, GPtrArray *gone, GError *error)
{
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  g_auto (GStrv) removed = NULL;

  if (!removal->prune)
    {
      if (error != NULL)
        ctrd_return_error (removal->invocation, error, CTRD_ERROR_STORAGE_ERROR);
      else
        ctr_volume_complete_remove (CTR_VOLUME (removal->answerer), removal->invocation);
      return;
    }
  /* a prune answers with what it removed; what it could not is logged */
  if (error != NULL)
    {
      g_warning ("PruneVolumes: %s", error->message);
      g_error_free (error);
    }
  for (guint i = 0; i < gone->len; i++)
    g_strv_builder_add (names, ctrd_volume_get_name (gone->pdata[i]));
  removed = g_strv_builder_end (names);
  ctr_manager_complete_prune_volumes (CTR_MANAGER (removal->answerer), removal->invocation,
                                      (const char *const *) removed);
}

static void
on_files_removed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdDaemon *daemon = CTRD_DAEMON (source);
  Removal *removal = g_task_get_task_data (G_TASK (result));
  g_autoptr (GPtrArray) gone = g_ptr_array_new ();
  GError *error = g_steal_pointer (&removal->first_error);
  g_autoptr (GError) db_error = NULL;

  for (guint i = 0; i < removal->volumes->len; i++)
    {
      CtrdVolume *volume = removal->volumes->pdata[i];

      volume->removing = FALSE;
      if (removal->gone[i])
        g_ptr_array_add (gone, volume);
    }
  if (!forget_volumes (daemon, gone, removal->prune, &db_error))
    {
      /* their files are gone, their records stay: the next start keeps them */
      g_ptr_array_set_size (gone, 0);
      if (error == NULL)
        error = g_steal_pointer (&db_error);
      else
        g_warning ("%s", db_error->message);
    }
  if (error != NULL && removal->volumes->len == 1)
    g_prefix_error (&error, "Volume %s: ", ctrd_volume_get_name (removal->volumes->pdata[0]));
  answer_removal (removal, gone, error);
}

/* Removes the files, then the records, of @volumes (CtrdVolume*, none in
 * use nor being removed; taken) and answers @invocation through
 * @answerer. */
static void
remove_volumes (CtrdDaemon *daemon, GPtrArray *volumes, gboolean prune, GObject *answerer,
                GDBusMethodInvocation *invocation)
{
  Removal *removal = g_new0 (Removal, 1);
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  g_autoptr (GTask) task = g_task_new (daemon, NULL, on_files_removed, NULL);

  removal->invocation = invocation;
  removal->answerer = g_object_ref (answerer);
  removal->prune = prune;
  removal->volumes = volumes;
  removal->gone = g_new0 (gboolean, volumes->len);
  for (guint i = 0; i < volumes->len; i++)
    {
      CtrdVolume *volume = volumes->pdata[i];

      volume->removing = TRUE;
      g_strv_builder_add (names, volume->record->name);
    }
  removal->names = g_strv_builder_end (names);
  g_task_set_task_data (task, removal, (GDestroyNotify) removal_free);
  g_task_run_in_thread (task, remove_files_thread);
}

/* ---------------------------------------------------------------- Remove */

/* Unless it has gone or is going already: answers and returns FALSE. */
static gboolean
check_removable (CtrdVolume *self, GDBusMethodInvocation *invocation)
{
  if (!self->removed && !self->removing)
    return TRUE;
  g_dbus_method_invocation_return_error (
      invocation, CTRD_ERROR, self->removed ? CTRD_ERROR_NOT_FOUND : CTRD_ERROR_INVALID_STATE,
      "Volume %s is %s", self->record->name, self->removed ? "removed" : "being removed");
  return FALSE;
}

static void
remove_volume_now (CtrdVolume *self, GDBusMethodInvocation *invocation)
{
  g_autoptr (GPtrArray) users = containers_using (self);
  GPtrArray *volumes;

  if (users->len > 0)
    {
      g_dbus_method_invocation_return_error (
          invocation, CTRD_ERROR, CTRD_ERROR_IN_USE,
          "Volume %s is used by %u containers (%s among them): remove them first, or remove "
          "the volume with force",
          self->record->name, users->len, ctrd_container_get_name (users->pdata[0]));
      return;
    }
  volumes = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (volumes, g_object_ref (self));
  remove_volumes (self->daemon, volumes, FALSE, G_OBJECT (self), invocation);
}

static void
on_users_removed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdVolume *self = CTRD_VOLUME (source);
  GDBusMethodInvocation *invocation = user_data;
  GError *error = NULL;

  self->removing = FALSE;
  if (!ctrd_container_remove_all_finish (result, &error))
    {
      g_prefix_error (&error, "Volume %s: ", self->record->name);
      ctrd_return_error (invocation, error, CTRD_ERROR_IN_USE);
    }
  else if (check_removable (self, invocation))
    remove_volume_now (self, invocation);
}

/* Authorized for container.create too: removes every container that mounts
 * the volume (killing running ones), then the volume. */
static void
remove_users_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdVolume *self = object;
  g_autoptr (GPtrArray) users = NULL;

  if (!check_removable (self, invocation))
    return;
  users = containers_using (self);
  /* no new user meanwhile */
  self->removing = TRUE;
  ctrd_container_remove_all_async (users, TRUE, self, on_users_removed, invocation);
}

/* @user_data: the force flag (GINT_TO_POINTER). */
static void
remove_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdVolume *self = object;
  g_autoptr (GPtrArray) users = NULL;

  if (!check_removable (self, invocation))
    return;
  users = containers_using (self);
  if (users->len > 0 && GPOINTER_TO_INT (user_data))
    {
      /* like Image.Remove(force): removing containers takes their action */
      ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), self, invocation,
                            CTRD_ACTION_CONTAINER_CREATE, "volume.name", self->record->name,
                            remove_users_authorized, NULL, NULL);
      return;
    }
  remove_volume_now (self, invocation);
}

static gboolean
handle_remove (CtrVolume *iface, GDBusMethodInvocation *invocation, gboolean force)
{
  CtrdVolume *self = CTRD_VOLUME (iface);

  ctrd_authority_check (ctrd_daemon_get_authority (self->daemon), self, invocation,
                        CTRD_ACTION_VOLUME_MANAGE, "volume.name", self->record->name,
                        remove_authorized, GINT_TO_POINTER (force), NULL);
  return TRUE;
}

static void
ctrd_volume_iface_init (CtrVolumeIface *iface)
{
  iface->handle_remove = handle_remove;
}

/* ---------------------------------------------------------------- Manager */

static const CtrdOptionSpec create_options[] = {
  { "Labels", "a{ss}" },
};

/* The form of CreateVolume's arguments: a new record, or NULL. */
static CtrdVolumeRecord *
build_record (CtrdDaemon *daemon, const char *name, GVariant *options, GError **error)
{
  g_autoptr (CtrdVolumeRecord) record = NULL;
  g_autoptr (GVariant) labels = NULL;
  g_autofree char *generated = NULL;
  GVariantIter iter;
  const char *key, *value;

  if (!ctrd_validate_options (options, create_options, G_N_ELEMENTS (create_options),
                              "CreateVolume", error))
    return NULL;
  if (*name == '\0')
    {
      /* as podman volume create: a random 64-hex name */
      do
        {
          g_free (generated);
          generated = ctrd_generate_id ();
        }
      while (ctrd_daemon_get_volume_by_name (daemon, generated) != NULL);
      name = generated;
    }
  else if (!ctrd_volume_validate_name (name, error))
    return NULL;
  record = ctrd_volume_record_new (name, FALSE);
  labels = g_variant_lookup_value (options, "Labels", G_VARIANT_TYPE ("a{ss}"));
  if (labels != NULL)
    {
      g_variant_iter_init (&iter, labels);
      while (g_variant_iter_next (&iter, "{&s&s}", &key, &value))
        g_hash_table_replace (record->labels, g_strdup (key), g_strdup (value));
      if (!ctrd_volume_check_labels (record->labels, error))
        return NULL;
    }
  return g_steal_pointer (&record);
}

static gboolean
check_name_free (CtrdDaemon *daemon, const char *name, GError **error)
{
  CtrdVolume *existing = ctrd_daemon_get_volume_by_name (daemon, name);

  if (existing == NULL)
    return TRUE;
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_NAME_IN_USE,
               "the name is already used by volume %.12s", existing->record->id);
  return FALSE;
}

typedef struct
{
  CtrdDaemon *daemon;
  CtrdVolumeRecord *record;
} CreateData;

static void
create_data_free (CreateData *data)
{
  ctrd_volume_record_free (data->record);
  g_free (data);
}

/* @user_data: CreateData (taken). */
static void
create_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrManager *manager = object;
  CreateData *data = user_data;
  CtrdDaemon *daemon = data->daemon;
  g_autoptr (GPtrArray) records =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_volume_record_free);
  g_autofree char *path = ctrd_volume_path_for_id (data->record->id);
  g_autofree char *name = g_strdup (data->record->name);
  GError *error = NULL;

  g_ptr_array_add (records, g_steal_pointer (&data->record));
  create_data_free (data);
  /* another may have taken the name or the room while polkit was asked */
  if (!check_name_free (daemon, name, &error) ||
      !check_exported_budget (daemon, records, 0, &error) ||
      !ctrd_db_insert_volumes (ctrd_daemon_get_db (daemon), records, &error))
    {
      g_prefix_error (&error, "Volume %s: ", name);
      ctrd_return_error (invocation, error, CTRD_ERROR_STORAGE_ERROR);
      return;
    }
  publish_records (daemon, records, TRUE);
  ctr_manager_complete_create_volume (manager, invocation, path);
}

gboolean
ctrd_volume_handle_create (CtrdDaemon *daemon, CtrManager *manager,
                           GDBusMethodInvocation *invocation, const char *name, GVariant *options)
{
  GError *error = NULL;
  CreateData *data;
  g_autoptr (CtrdVolumeRecord) record = build_record (daemon, name, options, &error);

  if (record == NULL || !check_name_free (daemon, record->name, &error))
    {
      g_autofree char *quoted = ctrd_quote_untrusted (name);
      g_prefix_error (&error, "Volume %s: ", quoted);
      ctrd_return_error (invocation, error, CTRD_ERROR_INVALID_ARGUMENT);
      return TRUE;
    }
  data = g_new0 (CreateData, 1);
  data->daemon = daemon;
  data->record = g_steal_pointer (&record);
  ctrd_authority_check (ctrd_daemon_get_authority (daemon), manager, invocation,
                        CTRD_ACTION_VOLUME_MANAGE, "volume.name", data->record->name,
                        create_authorized, data, (GDestroyNotify) create_data_free);
  return TRUE;
}

gboolean
ctrd_volume_handle_get (CtrdDaemon *daemon, CtrManager *manager, GDBusMethodInvocation *invocation,
                        const char *name_or_id)
{
  GError *error = NULL;
  CtrdVolume *volume = ctrd_daemon_find_volume (daemon, name_or_id, &error);

  if (volume == NULL)
    ctrd_return_error (invocation, error, CTRD_ERROR_NOT_FOUND);
  else
    ctr_manager_complete_get_volume (manager, invocation, volume->object_path);
  return TRUE;
}

/* @user_data: the daemon. */
static void
prune_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CtrdDaemon *daemon = user_data;
  g_autoptr (GPtrArray) all = ctrd_daemon_list_volumes (daemon);
  GPtrArray *unused = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < all->len; i++)
    {
      CtrdVolume *volume = all->pdata[i];
      g_autoptr (GPtrArray) users = NULL;

      if (volume->removing || volume->removed)
        continue;
      users = containers_using (volume);
      if (users->len == 0)
        g_ptr_array_add (unused, g_object_ref (volume));
    }
  if (unused->len == 0)
    {
      g_ptr_array_unref (unused);
      ctr_manager_complete_prune_volumes (CTR_MANAGER (object), invocation,
                                          (const char *const[]){ NULL });
      return;
    }
  remove_volumes (daemon, unused, TRUE, object, invocation);
}

gboolean
ctrd_volume_handle_prune (CtrdDaemon *daemon, CtrManager *manager,
                          GDBusMethodInvocation *invocation)
{
  ctrd_authority_check (ctrd_daemon_get_authority (daemon), manager, invocation,
                        CTRD_ACTION_VOLUME_MANAGE, NULL, NULL, prune_authorized, daemon, NULL);
  return TRUE;
}
