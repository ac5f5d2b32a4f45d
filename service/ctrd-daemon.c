/* ctrd-daemon.c: the daemon object: configuration, plain modules, objects. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "ctrd-container.h"
#include "ctrd-daemon.h"
#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-image.h"
#include "ctrd-manager.h"
#include "ctrd-network-object.h"
#include "ctrd-util.h"
#include "ctrd-volume-object.h"

struct _CtrdDaemon
{
  GObject parent_instance;

  CtrdConfig *config;
  int lock_fd;
  CtrdDb *db;
  CtrdStorage *storage;
  CtrdVolumes *volumes;
  CtrdRuntime *runtime;
  CtrdNetavark *netavark; /* NULL without netavark */

  GDBusConnection *connection;
  CtrdAuthority *authority;
  GDBusObjectManagerServer *object_manager;
  CtrdManager *manager;

  GHashTable *containers;     /* id -> CtrdContainer (owned) */
  GHashTable *images;         /* id -> CtrdImage (owned) */
  GHashTable *networks;       /* id -> CtrdNetwork (owned) */
  GHashTable *volumes_by_id;  /* id -> CtrdVolume (owned) */
  GHashTable *volumes_by_name; /* name -> the same, borrowed */
  GHashTable *held_addresses; /* container id -> address, while loading */
  guint name_owner_changed_id;
  GHashTable *exported_sizes; /* container id (owned) -> its exported size, as counted */
  guint64 exported_bytes;     /* their sum */
  guint send_filter_id;
};

/* Transfers at once; more wait their turn. */
#define TRANSFER_THREADS 8

typedef struct
{
  GTask *task;
  GTaskThreadFunc func;
} TransferJob;

G_DEFINE_TYPE (CtrdDaemon, ctrd_daemon, G_TYPE_OBJECT)

static void
ctrd_daemon_finalize (GObject *object)
{
  CtrdDaemon *self = CTRD_DAEMON (object);

  if (self->connection != NULL && self->name_owner_changed_id != 0)
    g_dbus_connection_signal_unsubscribe (self->connection, self->name_owner_changed_id);
  if (self->connection != NULL && self->send_filter_id != 0)
    g_dbus_connection_remove_filter (self->connection, self->send_filter_id);
  g_clear_pointer (&self->exported_sizes, g_hash_table_unref);
  g_clear_pointer (&self->containers, g_hash_table_unref);
  g_clear_pointer (&self->images, g_hash_table_unref);
  g_clear_pointer (&self->networks, g_hash_table_unref);
  g_clear_pointer (&self->volumes_by_name, g_hash_table_unref);
  g_clear_pointer (&self->volumes_by_id, g_hash_table_unref);
  g_clear_object (&self->manager);
  g_clear_object (&self->object_manager);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->authority, ctrd_authority_free);
  g_clear_pointer (&self->runtime, ctrd_runtime_free);
  g_clear_pointer (&self->netavark, ctrd_netavark_free);
  g_clear_pointer (&self->volumes, ctrd_volumes_free);
  g_clear_pointer (&self->storage, ctrd_storage_free);
  g_clear_pointer (&self->db, ctrd_db_close);
  g_clear_pointer (&self->config, ctrd_config_free);
  ctrd_close_fd (&self->lock_fd);

  G_OBJECT_CLASS (ctrd_daemon_parent_class)->finalize (object);
}

static void
ctrd_daemon_init (CtrdDaemon *self)
{
  self->lock_fd = -1;
  self->containers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->images = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->networks = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->volumes_by_id = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->volumes_by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->exported_sizes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
run_transfer_job (gpointer job_data, gpointer user_data)
{
  TransferJob *job = job_data;
  g_autoptr (GTask) task = job->task;

  job->func (task, g_task_get_source_object (task), g_task_get_task_data (task),
             g_task_get_cancellable (task));
  g_free (job);
}

void
ctrd_daemon_run_transfer (CtrdDaemon *self, GTask *task, GTaskThreadFunc func)
{
  /* Like GTask's own pool, it lives as long as the process: a transfer
   * stalled on a caller's pipe must not hold up the exit. */
  static GThreadPool *transfers;
  TransferJob *job = g_new0 (TransferJob, 1);

  if (transfers == NULL)
    transfers = g_thread_pool_new (run_transfer_job, NULL, TRANSFER_THREADS, FALSE, NULL);
  job->task = task;
  job->func = func;
  g_thread_pool_push (transfers, job, NULL);
}

/* The exported size is counted once, when the container appears: later
 * changes (a network detached) only make it smaller. */
static void
count_exported (CtrdDaemon *self, CtrdContainer *container)
{
  gsize bytes = ctrd_container_get_exported_size (container);

  g_hash_table_insert (self->exported_sizes, g_strdup (ctrd_container_get_id (container)),
                       GSIZE_TO_POINTER (bytes));
  self->exported_bytes += bytes;
}

static void
uncount_exported (CtrdDaemon *self, CtrdContainer *container)
{
  gpointer bytes;

  if (!g_hash_table_lookup_extended (self->exported_sizes, ctrd_container_get_id (container), NULL,
                                     &bytes))
    return;
  self->exported_bytes -= GPOINTER_TO_SIZE (bytes);
  g_hash_table_remove (self->exported_sizes, ctrd_container_get_id (container));
}

gboolean
ctrd_daemon_check_exported_budget (CtrdDaemon *self, gsize bytes, GError **error)
{
  if (self->exported_bytes + bytes <= self->config->exported_max_bytes)
    return TRUE;
  g_set_error (
      error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
      "The properties of all containers would take more than the limit of %" G_GUINT64_FORMAT
      " bytes on the bus (%u containers take %" G_GUINT64_FORMAT "): remove some first",
      self->config->exported_max_bytes, g_hash_table_size (self->exported_sizes),
      self->exported_bytes);
  return FALSE;
}

static void
ctrd_daemon_class_init (CtrdDaemonClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ctrd_daemon_finalize;
}

/* One daemon per storage root: an flock on STORAGE_ROOT/containersd.lock,
 * held for the daemon's life and released by the kernel when it dies. */
static gboolean
take_storage_lock (CtrdDaemon *self, gboolean wait, GError **error)
{
  g_autofree char *path = g_build_filename (self->config->storage_root, "containersd.lock", NULL);
  ctrd_autofd int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    return ctrd_throw_errno (error, "Cannot open lock file %s", path);

  for (guint tries = 0;; tries++)
    {
      if (flock (fd, LOCK_EX | LOCK_NB) == 0)
        break;
      if (errno != EWOULDBLOCK)
        return ctrd_throw_errno (error, "Cannot lock %s", path);
      if (!wait || tries >= 100)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_IN_USE,
                       "Another containersd is already using the storage root %s",
                       self->config->storage_root);
          return FALSE;
        }
      g_usleep (100 * G_TIME_SPAN_MILLISECOND);
    }
  self->lock_fd = ctrd_steal_fd (&fd);
  return TRUE;
}

/* A changed boot id means the host rebooted since the state was written: every
 * process, mount and run-root file of the old boot is gone (libpod's refresh). */
static gboolean
check_reboot (CtrdDaemon *self, gboolean *out_rebooted, GError **error)
{
  g_autofree char *boot_id = NULL;
  g_autofree char *stored = NULL;

  /* Tests simulate a reboot by pointing this at a file of their own; only
   * whoever starts the daemon can set it, never a bus caller. */
  const char *boot_id_file = g_getenv ("CTRD_TEST_BOOT_ID_FILE");

  if (boot_id_file == NULL || *boot_id_file == '\0')
    boot_id_file = "/proc/sys/kernel/random/boot_id";
  if (!g_file_get_contents (boot_id_file, &boot_id, NULL, error))
    return FALSE;
  g_strstrip (boot_id);
  stored = ctrd_db_get_meta (self->db, "boot_id", error);
  if (stored == NULL && error != NULL && *error != NULL)
    return FALSE;
  *out_rebooted = stored != NULL && !g_str_equal (stored, boot_id);
  if (stored == NULL || *out_rebooted)
    return ctrd_db_set_meta (self->db, "boot_id", boot_id, error);
  return TRUE;
}

static void
on_container_exit (const char *id, gpointer user_data)
{
  CtrdDaemon *self = user_data;
  CtrdContainer *container = g_hash_table_lookup (self->containers, id);

  if (container != NULL)
    ctrd_container_handle_exit (container);
}

/* An image ref with no row is what an import, pull or commit the daemon was
 * killed in left between its commit and its row: the ref goes (the next
 * prune takes the objects), as the failed insert would have done. */
static void
drop_unrecorded_image_refs (CtrdDaemon *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) ids = ctrd_storage_list_image_ids (self->storage, &error);

  if (ids == NULL)
    {
      g_warning ("%s", error->message);
      return;
    }
  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = ids->pdata[i];

      if (g_hash_table_contains (self->images, id))
        continue;
      g_message ("Image %.12s: removing the ref of an import that the daemon did not finish", id);
      if (!ctrd_storage_delete_image_ref (self->storage, id, &error))
        {
          g_warning ("%s", error->message);
          g_clear_error (&error);
        }
    }
}

/* The database's rows as objects, networks before the containers that name
 * them; held_addresses stays for load_state to use and clear. */
static gboolean
load_records (CtrdDaemon *self, GError **error)
{
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GPtrArray) containers = NULL;
  g_autoptr (GPtrArray) networks = NULL;
  g_autoptr (GPtrArray) addresses = NULL;

  images = ctrd_db_load_images (self->db, error);
  if (images == NULL)
    return FALSE;
  for (guint i = 0; i < images->len; i++)
    {
      CtrdImageRecord *record = g_ptr_array_steal_index_fast (images, i--);
      CtrdImage *image = ctrd_image_new (self, record);
      g_hash_table_insert (self->images, (gpointer) ctrd_image_get_id (image), image);
    }
  drop_unrecorded_image_refs (self);

  /* before the containers, whose Network property names them */
  networks = ctrd_db_load_networks (self->db, error);
  if (networks == NULL)
    return FALSE;
  for (guint i = 0; i < networks->len; i++)
    {
      CtrdNetwork *network = ctrd_network_new (self, g_ptr_array_steal_index_fast (networks, i--));
      g_hash_table_insert (self->networks, (gpointer) ctrd_network_get_id (network), network);
    }

  addresses = ctrd_db_load_addresses (self->db, NULL, error);
  if (addresses == NULL)
    return FALSE;
  self->held_addresses = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < addresses->len; i++)
    {
      CtrdAddressRecord *record = addresses->pdata[i];
      g_hash_table_insert (self->held_addresses, record->container_id, record->address);
    }

  containers = ctrd_db_load_containers (self->db, error);
  if (containers == NULL)
    return FALSE;
  for (guint i = 0; i < containers->len; i++)
    {
      CtrdContainerRecord *record = g_ptr_array_index (containers, i);
      CtrdContainer *container =
          ctrd_container_new (self, g_steal_pointer (&record->config), &record->run);

      ctrd_container_restore_health (container, record->health_json);
      g_hash_table_insert (self->containers, (gpointer) ctrd_container_get_id (container),
                           container);
      count_exported (self, container);
    }
  return TRUE;
}

/* The images, networks and containers of the database as bus objects, each
 * container's state set against what its runtime says now. */
static gboolean
load_state (CtrdDaemon *self, GError **error)
{
  gboolean rebooted = FALSE;
  GHashTableIter iter;
  gpointer value;

  if (!check_reboot (self, &rebooted, error))
    return FALSE;
  if (rebooted)
    g_message ("The host rebooted since containersd last ran: resetting container states");
  if (!load_records (self, error))
    return FALSE;
  /* after the containers, whose Mounts make the volumes' Containers */
  if (!ctrd_volume_load_all (self, error))
    return FALSE;

  /* Watch before reconciling so no exit between the two is missed. */
  if (!ctrd_runtime_watch_exits (self->runtime, on_container_exit, self, error))
    return FALSE;

  g_hash_table_iter_init (&iter, self->containers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    ctrd_container_reconcile (value, rebooted);

  g_hash_table_iter_init (&iter, self->images);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    ctrd_daemon_update_image_containers (self, ctrd_image_get_id (value));
  g_hash_table_iter_init (&iter, self->networks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    ctrd_network_update_containers (value);
  g_clear_pointer (&self->held_addresses, g_hash_table_unref);

  g_message ("Loaded %u images, %u containers and %u volumes", g_hash_table_size (self->images),
             g_hash_table_size (self->containers), g_hash_table_size (self->volumes_by_id));
  return TRUE;
}

CtrdDaemon *
ctrd_daemon_new (CtrdConfig *config, gboolean wait_for_lock, GError **error)
{
  g_autoptr (CtrdDaemon) self = g_object_new (CTRD_TYPE_DAEMON, NULL);
  g_autofree char *db_path = NULL;

  self->config = config;

  /* The storage module makes the root (0700) before the lock lives in it. */
  self->storage = ctrd_storage_new (config->storage_root, error);
  if (self->storage == NULL)
    return NULL;
  if (!take_storage_lock (self, wait_for_lock, error))
    return NULL;

  self->volumes = ctrd_volumes_new (config->storage_root, error);
  if (self->volumes == NULL)
    return NULL;

  db_path = g_build_filename (config->storage_root, "state.db", NULL);
  self->db = ctrd_db_open (db_path, error);
  if (self->db == NULL)
    return NULL;

  self->runtime = ctrd_runtime_new (config->runtime, config->conmon, config->run_root, error);
  if (self->runtime == NULL)
    return NULL;
  ctrd_runtime_set_verb_timeout (self->runtime, (guint) MIN (config->runtime_timeout, 3600));

  {
    g_autofree char *network_dir = g_build_filename (config->run_root, "network", NULL);
    g_autoptr (GError) network_error = NULL;
    CtrdNetavarkOptions options = { config->netavark, config->aardvark_dns, network_dir,
                                    config->dns_forward };

    /* containers on none and host run without it */
    self->netavark = ctrd_netavark_new (&options, &network_error);
    if (self->netavark == NULL)
      g_message ("Bridge networks are not available: %s", network_error->message);
  }

  if (!load_state (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

/* A client left the bus: whatever it still waits for is dropped. */
static void
on_name_owner_changed (GDBusConnection *connection, const char *sender_name,
                       const char *object_path, const char *interface_name, const char *signal_name,
                       GVariant *parameters, gpointer user_data)
{
  CtrdDaemon *self = user_data;
  const char *name, *old_owner, *new_owner;
  GHashTableIter iter;
  gpointer value;

  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (name[0] != ':' || *new_owner != '\0')
    return;
  ctrd_authority_client_vanished (self->authority, name);
  g_hash_table_iter_init (&iter, self->containers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    ctrd_container_client_vanished (value, name);
}

/* The system bus's limit on one message (dbus-daemon's max_message_size),
 * less room for the header. */
#define BUS_MESSAGE_MAX_BYTES (32 * 1024 * 1024)
#define HEADER_ROOM_BYTES 4096

/* A message over the bus's limit makes dbus-daemon disconnect the daemon,
 * which would then exit: the bounds on properties should never let one
 * arise, and this filter is the last line. A reply too big becomes an
 * error reply (the caller gets an answer), a signal too big is dropped;
 * both are logged and the daemon carries on. Runs in GDBus's worker
 * thread: it touches nothing of the daemon. @user_data: the limit of a
 * message body in bytes. */
static GDBusMessage *
filter_oversized (GDBusConnection *connection, GDBusMessage *message, gboolean incoming,
                  gpointer user_data)
{
  gsize max_body = GPOINTER_TO_SIZE (user_data);
  GVariant *body;
  gsize size;
  GDBusMessage *error_reply;
  g_autofree char *text = NULL;

  if (incoming)
    return message;
  body = g_dbus_message_get_body (message);
  size = body != NULL ? g_variant_get_size (body) : 0;
  if (size <= max_body)
    return message;

  if (g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_RETURN)
    {
      g_warning ("Dropped a %s message of %" G_GSIZE_FORMAT " bytes to %s (%s.%s): over the "
                 "bus's message limit",
                 g_dbus_message_get_message_type (message) == G_DBUS_MESSAGE_TYPE_SIGNAL ? "signal"
                                                                                         : "D-Bus",
                 size, g_dbus_message_get_destination (message) ?: "everyone",
                 g_dbus_message_get_interface (message) ?: "",
                 g_dbus_message_get_member (message) ?: "");
      g_object_unref (message);
      return NULL;
    }

  g_warning ("A reply of %" G_GSIZE_FORMAT " bytes to %s is over the bus's message limit: "
             "answered with an error instead",
             size, g_dbus_message_get_destination (message) ?: "(unknown)");
  text = g_strdup_printf ("The reply would take %" G_GSIZE_FORMAT " bytes, more than the bus's "
                          "limit of %" G_GSIZE_FORMAT " bytes per message",
                          size, max_body);
  error_reply = g_dbus_message_new ();
  g_dbus_message_set_message_type (error_reply, G_DBUS_MESSAGE_TYPE_ERROR);
  g_dbus_message_set_flags (error_reply, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
  g_dbus_message_set_reply_serial (error_reply, g_dbus_message_get_reply_serial (message));
  g_dbus_message_set_serial (error_reply, g_dbus_message_get_serial (message));
  if (g_dbus_message_get_destination (message) != NULL)
    g_dbus_message_set_destination (error_reply, g_dbus_message_get_destination (message));
  g_dbus_message_set_error_name (error_reply, "org.example.Containers1.Error.LimitExceeded");
  g_dbus_message_set_body (error_reply, g_variant_new ("(s)", text));
  g_object_unref (message);
  return error_reply;
}

/* The body limit of filter_oversized; tests lower it through
 * CTRD_TEST_MAX_MESSAGE_SIZE (whoever starts the daemon, never a caller). */
static gsize
message_body_limit (void)
{
  const char *test_limit = g_getenv ("CTRD_TEST_MAX_MESSAGE_SIZE");
  guint64 limit;

  if (test_limit != NULL && g_ascii_string_to_unsigned (test_limit, 10, HEADER_ROOM_BYTES + 1,
                                                        BUS_MESSAGE_MAX_BYTES, &limit, NULL))
    return limit - HEADER_ROOM_BYTES;
  return BUS_MESSAGE_MAX_BYTES - HEADER_ROOM_BYTES;
}

gboolean
ctrd_daemon_export (CtrdDaemon *self, GDBusConnection *connection, GError **error)
{
  GHashTableIter iter;
  gpointer value;

  self->connection = g_object_ref (connection);
  self->send_filter_id = g_dbus_connection_add_filter (
      connection, filter_oversized, GSIZE_TO_POINTER (message_body_limit ()), NULL);
  self->authority = ctrd_authority_new ();
  self->name_owner_changed_id = g_dbus_connection_signal_subscribe (
      connection, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
      "/org/freedesktop/DBus", NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_name_owner_changed, self, NULL);
  self->manager = ctrd_manager_new (self);

  /* The manager lives at the object manager's own path, which
   * GDBusObjectManagerServer does not export objects at, so it is exported
   * directly beside the ObjectManager interface. */
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->manager), connection,
                                         CTRD_OBJECT_ROOT, error))
    return FALSE;

  self->object_manager = g_dbus_object_manager_server_new (CTRD_OBJECT_ROOT);

  g_hash_table_iter_init (&iter, self->images);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_autoptr (CtrObjectSkeleton) object =
          ctr_object_skeleton_new (ctrd_image_get_object_path (value));
      ctr_object_skeleton_set_image (object, CTR_IMAGE (value));
      g_dbus_object_manager_server_export (self->object_manager, G_DBUS_OBJECT_SKELETON (object));
    }
  g_hash_table_iter_init (&iter, self->networks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_autoptr (CtrObjectSkeleton) object =
          ctr_object_skeleton_new (ctrd_network_get_object_path (value));
      ctr_object_skeleton_set_network (object, CTR_NETWORK (value));
      g_dbus_object_manager_server_export (self->object_manager, G_DBUS_OBJECT_SKELETON (object));
    }
  g_hash_table_iter_init (&iter, self->volumes_by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_autoptr (CtrObjectSkeleton) object =
          ctr_object_skeleton_new (ctrd_volume_get_object_path (value));
      ctr_object_skeleton_set_volume (object, CTR_VOLUME (value));
      g_dbus_object_manager_server_export (self->object_manager, G_DBUS_OBJECT_SKELETON (object));
    }
  g_hash_table_iter_init (&iter, self->containers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_autoptr (CtrObjectSkeleton) object =
          ctr_object_skeleton_new (ctrd_container_get_object_path (value));
      ctr_object_skeleton_set_container (object, CTR_CONTAINER (value));
      g_dbus_object_manager_server_export (self->object_manager, G_DBUS_OBJECT_SKELETON (object));
    }

  g_dbus_object_manager_server_set_connection (self->object_manager, connection);
  return TRUE;
}

CtrdConfig *
ctrd_daemon_get_config (CtrdDaemon *self)
{
  return self->config;
}

CtrdDb *
ctrd_daemon_get_db (CtrdDaemon *self)
{
  return self->db;
}

CtrdStorage *
ctrd_daemon_get_storage (CtrdDaemon *self)
{
  return self->storage;
}

CtrdVolumes *
ctrd_daemon_get_volumes (CtrdDaemon *self)
{
  return self->volumes;
}

CtrdRuntime *
ctrd_daemon_get_runtime (CtrdDaemon *self)
{
  return self->runtime;
}

GDBusConnection *
ctrd_daemon_get_connection (CtrdDaemon *self)
{
  return self->connection;
}

CtrdAuthority *
ctrd_daemon_get_authority (CtrdDaemon *self)
{
  return self->authority;
}

CtrdNetavark *
ctrd_daemon_get_netavark (CtrdDaemon *self)
{
  return self->netavark;
}

const char *
ctrd_daemon_get_held_address (CtrdDaemon *self, const char *container_id)
{
  return self->held_addresses != NULL ? g_hash_table_lookup (self->held_addresses, container_id)
                                      : NULL;
}

CtrdContainer *
ctrd_daemon_get_container_by_name (CtrdDaemon *self, const char *name)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->containers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_str_equal (ctrd_container_get_name (value), name))
      return value;
  return NULL;
}

/* Full ID, then name, then unique ID prefix: a name that looks like a prefix
 * of another object's ID still finds the named one. @table: ID -> object;
 * @what: "container", "network", "volume". */
static gpointer
find_by_name_or_id (GHashTable *table, const char *(*name_of) (gpointer object), const char *what,
                    const char *name_or_id, GError **error)
{
  gpointer found;
  guint matches = 0;
  GHashTableIter iter;
  gpointer key, value;
  g_autofree char *printable = NULL;

  if (name_or_id == NULL || *name_or_id == '\0')
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "Empty %s name or ID", what);
      return NULL;
    }
  if (strlen (name_or_id) > CTRD_ID_LEN + CTRD_NAME_MAX)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED, "%c%s name or ID is too long",
                   g_ascii_toupper (what[0]), what + 1);
      return NULL;
    }

  found = g_hash_table_lookup (table, name_or_id);
  if (found != NULL)
    return found;
  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_str_equal (name_of (value), name_or_id))
      return value;

  if (ctrd_is_id_prefix (name_or_id))
    {
      g_hash_table_iter_init (&iter, table);
      while (g_hash_table_iter_next (&iter, &key, &value))
        if (g_str_has_prefix (key, name_or_id))
          {
            found = value;
            matches++;
          }
    }
  if (matches == 1)
    return found;

  printable = g_strescape (name_or_id, NULL);
  if (matches > 1)
    g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                 "%c%s ID prefix \"%s\" matches %u %ss", g_ascii_toupper (what[0]), what + 1,
                 printable, matches, what);
  else
    g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND, "No %s named \"%s\"", what, printable);
  return NULL;
}

static const char *
container_name (gpointer container)
{
  return ctrd_container_get_name (container);
}

CtrdContainer *
ctrd_daemon_find_container (CtrdDaemon *self, const char *name_or_id, GError **error)
{
  return find_by_name_or_id (self->containers, container_name, "container", name_or_id, error);
}

GPtrArray *
ctrd_daemon_list_containers (CtrdDaemon *self)
{
  GPtrArray *out = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->containers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (out, value);
  return out;
}

CtrdImage *
ctrd_daemon_get_image_by_id (CtrdDaemon *self, const char *id)
{
  return g_hash_table_lookup (self->images, id);
}

CtrdImage *
ctrd_daemon_get_image_by_name (CtrdDaemon *self, const char *name)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->images);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (ctrd_image_has_name (value, name))
      return value;
  return NULL;
}

CtrdImage *
ctrd_daemon_find_image (CtrdDaemon *self, const char *reference, GError **error)
{
  const char *ref = reference;
  CtrdImage *found = NULL;
  guint matches = 0;
  GHashTableIter iter;
  gpointer key, value;
  g_autofree char *printable = NULL;

  if (ref == NULL || *ref == '\0')
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "Empty image reference");
      return NULL;
    }
  if (strlen (ref) > 512)
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                           "Image reference is too long");
      return NULL;
    }
  if (g_str_has_prefix (ref, "sha256:"))
    ref += strlen ("sha256:");

  found = g_hash_table_lookup (self->images, ref);
  if (found != NULL)
    return found;

  if (ref == reference)
    {
      g_autofree char *normalized = ctrd_normalize_image_name (ref, NULL);
      if (normalized != NULL)
        {
          found = ctrd_daemon_get_image_by_name (self, normalized);
          if (found != NULL)
            return found;
        }
    }

  if (ctrd_is_id_prefix (ref))
    {
      g_hash_table_iter_init (&iter, self->images);
      while (g_hash_table_iter_next (&iter, &key, &value))
        if (g_str_has_prefix (key, ref))
          {
            found = value;
            matches++;
          }
    }
  if (matches == 1)
    return found;

  printable = g_strescape (reference, NULL);
  if (matches > 1)
    g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                 "Image ID prefix \"%s\" matches %u images", printable, matches);
  else
    g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND, "No image \"%s\"", printable);
  return NULL;
}

void
ctrd_daemon_add_container (CtrdDaemon *self, CtrdContainer *container)
{
  g_hash_table_insert (self->containers, (gpointer) ctrd_container_get_id (container),
                       g_object_ref (container));
  count_exported (self, container);
  if (self->object_manager != NULL)
    {
      g_autoptr (CtrObjectSkeleton) object =
          ctr_object_skeleton_new (ctrd_container_get_object_path (container));
      ctr_object_skeleton_set_container (object, CTR_CONTAINER (container));
      g_dbus_object_manager_server_export (self->object_manager, G_DBUS_OBJECT_SKELETON (object));
    }
  ctrd_daemon_update_image_containers (self, ctrd_container_get_image_id (container));
  ctrd_daemon_update_network_containers (self, ctrd_container_get_network_id (container));
  ctrd_daemon_update_volume_containers (self, ctrd_container_get_mounts (container));
}

void
ctrd_daemon_remove_container (CtrdDaemon *self, CtrdContainer *container)
{
  g_autofree char *image_id = g_strdup (ctrd_container_get_image_id (container));
  g_autofree char *network_id = g_strdup (ctrd_container_get_network_id (container));
  g_autoptr (GPtrArray) mounts = g_ptr_array_ref (ctrd_container_get_mounts (container));

  if (self->object_manager != NULL)
    g_dbus_object_manager_server_unexport (self->object_manager,
                                           ctrd_container_get_object_path (container));
  uncount_exported (self, container);
  g_hash_table_remove (self->containers, ctrd_container_get_id (container));
  ctrd_daemon_update_image_containers (self, image_id);
  ctrd_daemon_update_network_containers (self, network_id);
  ctrd_daemon_update_volume_containers (self, mounts);
}

void
ctrd_daemon_remove_image (CtrdDaemon *self, CtrdImage *image)
{
  if (self->object_manager != NULL)
    g_dbus_object_manager_server_unexport (self->object_manager,
                                           ctrd_image_get_object_path (image));
  g_hash_table_remove (self->images, ctrd_image_get_id (image));
}

GDBusObjectManagerServer *
ctrd_daemon_get_object_manager (CtrdDaemon *self)
{
  return self->object_manager;
}

void
ctrd_daemon_add_image (CtrdDaemon *self, CtrdImage *image)
{
  g_hash_table_insert (self->images, (gpointer) ctrd_image_get_id (image), g_object_ref (image));
  if (self->object_manager != NULL)
    {
      g_autoptr (CtrObjectSkeleton) object =
          ctr_object_skeleton_new (ctrd_image_get_object_path (image));
      ctr_object_skeleton_set_image (object, CTR_IMAGE (image));
      g_dbus_object_manager_server_export (self->object_manager, G_DBUS_OBJECT_SKELETON (object));
    }
}

void
ctrd_return_error (GDBusMethodInvocation *invocation, GError *error, CtrdError fallback)
{
  ctrd_error_normalize (&error, fallback);
  g_dbus_method_invocation_take_error (invocation, error);
}

void
ctrd_daemon_emit_event (CtrdDaemon *self, const char *object_path, const char *id,
                        const char *event)
{
  guint64 now = ctrd_now_usec ();

  g_debug ("event %s %s", event, id);
  ctrd_daemon_record_event (self, "container", id, event, now);
  if (self->manager != NULL)
    ctr_manager_emit_container_event (CTR_MANAGER (self->manager), object_path, id, event, now);
}

/* The history is a record of what the signals said: a failure to keep it
 * is logged and does not undo the event itself. */
void
ctrd_daemon_record_event (CtrdDaemon *self, const char *kind, const char *id, const char *event,
                          guint64 time)
{
  g_autoptr (GError) error = NULL;
  CtrdEventRecord record = { (char *) kind, (char *) id, (char *) event, time };

  if (!ctrd_db_add_event (self->db, &record, self->config->events_max_count,
                          self->config->events_max_age * G_USEC_PER_SEC, &error))
    g_warning ("Event %s of %s %s not kept in the history: %s", event, kind, id, error->message);
}

void
ctrd_daemon_emit_image_event (CtrdDaemon *self, const char *object_path, const char *id,
                              const char *event)
{
  guint64 now = ctrd_now_usec ();

  g_debug ("image event %s %s", event, id);
  ctrd_daemon_record_event (self, "image", id, event, now);
  if (self->manager != NULL)
    ctr_manager_emit_image_event (CTR_MANAGER (self->manager), object_path, id, event, now);
}

GPtrArray *
ctrd_daemon_list_images (CtrdDaemon *self)
{
  GPtrArray *images = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->images);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (images, value);
  return images;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

void
ctrd_daemon_update_image_containers (CtrdDaemon *self, const char *image_id)
{
  CtrdImage *image = g_hash_table_lookup (self->images, image_id);
  g_autoptr (GPtrArray) paths = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  if (image == NULL)
    return;
  g_hash_table_iter_init (&iter, self->containers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_str_equal (ctrd_container_get_image_id (value), image_id))
      g_ptr_array_add (paths, (gpointer) ctrd_container_get_object_path (value));
  g_ptr_array_sort (paths, compare_strings);
  g_ptr_array_add (paths, NULL);
  ctr_image_set_containers (CTR_IMAGE (image), (const char *const *) paths->pdata);
}

/* ---------------------------------------------------------------- networks */

CtrdNetwork *
ctrd_daemon_get_network_by_id (CtrdDaemon *self, const char *id)
{
  return id != NULL ? g_hash_table_lookup (self->networks, id) : NULL;
}

static const char *
network_name (gpointer network)
{
  return ctrd_network_get_name (network);
}

CtrdNetwork *
ctrd_daemon_find_network (CtrdDaemon *self, const char *name_or_id, GError **error)
{
  return find_by_name_or_id (self->networks, network_name, "network", name_or_id, error);
}

GPtrArray *
ctrd_daemon_list_networks (CtrdDaemon *self)
{
  GPtrArray *out = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->networks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (out, value);
  return out;
}

void
ctrd_daemon_add_network (CtrdDaemon *self, CtrdNetwork *network)
{
  g_hash_table_insert (self->networks, (gpointer) ctrd_network_get_id (network),
                       g_object_ref (network));
  if (self->object_manager != NULL)
    {
      g_autoptr (CtrObjectSkeleton) object =
          ctr_object_skeleton_new (ctrd_network_get_object_path (network));
      ctr_object_skeleton_set_network (object, CTR_NETWORK (network));
      g_dbus_object_manager_server_export (self->object_manager, G_DBUS_OBJECT_SKELETON (object));
    }
  ctrd_network_update_containers (network);
}

void
ctrd_daemon_remove_network (CtrdDaemon *self, CtrdNetwork *network)
{
  if (self->object_manager != NULL)
    g_dbus_object_manager_server_unexport (self->object_manager,
                                           ctrd_network_get_object_path (network));
  g_hash_table_remove (self->networks, ctrd_network_get_id (network));
}

void
ctrd_daemon_update_network_containers (CtrdDaemon *self, const char *network_id)
{
  CtrdNetwork *network = ctrd_daemon_get_network_by_id (self, network_id);

  if (network != NULL)
    ctrd_network_update_containers (network);
}

/* ---------------------------------------------------------------- volumes */

static const char *
volume_name (gpointer volume)
{
  return ctrd_volume_get_name (volume);
}

CtrdVolume *
ctrd_daemon_find_volume (CtrdDaemon *self, const char *name_or_id, GError **error)
{
  return find_by_name_or_id (self->volumes_by_id, volume_name, "volume", name_or_id, error);
}

CtrdVolume *
ctrd_daemon_get_volume_by_name (CtrdDaemon *self, const char *name)
{
  return name != NULL ? g_hash_table_lookup (self->volumes_by_name, name) : NULL;
}

GPtrArray *
ctrd_daemon_list_volumes (CtrdDaemon *self)
{
  GPtrArray *out = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->volumes_by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (out, value);
  return out;
}

void
ctrd_daemon_add_volume (CtrdDaemon *self, CtrdVolume *volume)
{
  g_hash_table_insert (self->volumes_by_id, (gpointer) ctrd_volume_get_id (volume),
                       g_object_ref (volume));
  g_hash_table_insert (self->volumes_by_name, (gpointer) ctrd_volume_get_name (volume), volume);
  if (self->object_manager != NULL)
    {
      g_autoptr (CtrObjectSkeleton) object =
          ctr_object_skeleton_new (ctrd_volume_get_object_path (volume));
      ctr_object_skeleton_set_volume (object, CTR_VOLUME (volume));
      g_dbus_object_manager_server_export (self->object_manager, G_DBUS_OBJECT_SKELETON (object));
    }
  ctrd_volume_update_containers (volume);
}

void
ctrd_daemon_remove_volume (CtrdDaemon *self, CtrdVolume *volume)
{
  if (self->object_manager != NULL)
    g_dbus_object_manager_server_unexport (self->object_manager,
                                           ctrd_volume_get_object_path (volume));
  g_hash_table_remove (self->volumes_by_name, ctrd_volume_get_name (volume));
  g_hash_table_remove (self->volumes_by_id, ctrd_volume_get_id (volume));
}

void
ctrd_daemon_update_volume_containers (CtrdDaemon *self, GPtrArray *mounts)
{
  for (guint i = 0; mounts != NULL && i < mounts->len; i++)
    {
      const CtrdMount *mount = mounts->pdata[i];
      CtrdVolume *volume;

      if (mount->type != CTRD_MOUNT_VOLUME)
        continue;
      volume = g_hash_table_lookup (self->volumes_by_name, mount->source);
      if (volume != NULL)
        ctrd_volume_update_containers (volume);
    }
}
