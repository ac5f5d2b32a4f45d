/* ctrd-job.c: one long operation on the bus. */
#include "config.h"

#include "ctrd-authority.h"
#include "ctrd-error.h"
#include "ctrd-job.h"
#include "ctrd-util.h"

/* Progress reaches the bus at most this often (PropertiesChanged per
 * update would flood clients during a fast import). */
#define PUBLISH_INTERVAL_MS 100
#define UID_UNKNOWN G_MAXUINT32

struct _CtrdJob
{
  CtrJobSkeleton parent_instance;

  CtrdDaemon *daemon; /* not owned */
  char *object_path;
  GCancellable *cancellable;
  GMainContext *context; /* where progress is published */
  GDBusConnection *connection;
  char *starter;       /* unique bus name, NULL off the bus */
  guint32 starter_uid; /* UID_UNKNOWN until the bus says */
  guint watch_id;
  gboolean exported;
  gboolean completed;
  guint32 counted_uid; /* counted in jobs_per_uid until completed; UID_UNKNOWN: not */

  GMutex lock; /* guards the fields below, written by the worker */
  guint64 done;
  guint64 total;
  gboolean publish_scheduled;
  gint64 last_publish; /* monotonic usec */
};

static void ctrd_job_iface_init (CtrJobIface *iface);

G_DEFINE_TYPE_WITH_CODE (CtrdJob, ctrd_job, CTR_TYPE_JOB_SKELETON,
                         G_IMPLEMENT_INTERFACE (CTR_TYPE_JOB, ctrd_job_iface_init))

static guint next_job_number = 1;

/* uid -> jobs under way (main thread): what ctrd_job_check_quota bounds. */
static GHashTable *jobs_per_uid;

static guint
jobs_of (guint32 uid)
{
  return jobs_per_uid != NULL
             ? GPOINTER_TO_UINT (g_hash_table_lookup (jobs_per_uid, GUINT_TO_POINTER (uid)))
             : 0;
}

static void
count_job (guint32 uid, gboolean started)
{
  guint now = jobs_of (uid);

  if (jobs_per_uid == NULL)
    jobs_per_uid = g_hash_table_new (NULL, NULL);
  now = started ? now + 1 : (now > 0 ? now - 1 : 0);
  if (now == 0)
    g_hash_table_remove (jobs_per_uid, GUINT_TO_POINTER (uid));
  else
    g_hash_table_insert (jobs_per_uid, GUINT_TO_POINTER (uid), GUINT_TO_POINTER (now));
}

static void
uncount (CtrdJob *self)
{
  if (self->counted_uid == UID_UNKNOWN)
    return;
  count_job (self->counted_uid, FALSE);
  self->counted_uid = UID_UNKNOWN;
}

gboolean
ctrd_job_check_quota (GDBusMethodInvocation *invocation, const char *what, GError **error)
{
  guint32 uid = ctrd_authority_get_caller_uid (invocation);

  if (uid == 0 || uid == UID_UNKNOWN || jobs_of (uid) < CTRD_JOBS_PER_UID)
    return TRUE;
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
               "%s: uid %u already has %u jobs under way (imports, exports, commits, pulls and "
               "pushes), the most a user other than root may have at once; wait for one to end "
               "or cancel it",
               what, uid, jobs_of (uid));
  return FALSE;
}

static void
ctrd_job_finalize (GObject *object)
{
  CtrdJob *self = CTRD_JOB (object);

  if (self->watch_id != 0)
    g_bus_unwatch_name (self->watch_id);
  uncount (self);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->object_path);
  g_free (self->starter);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (ctrd_job_parent_class)->finalize (object);
}

static void
ctrd_job_init (CtrdJob *self)
{
  g_mutex_init (&self->lock);
  self->cancellable = g_cancellable_new ();
  self->starter_uid = UID_UNKNOWN;
  self->counted_uid = UID_UNKNOWN;
}

static void
ctrd_job_class_init (CtrdJobClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ctrd_job_finalize;
}

static void
on_starter_vanished (GDBusConnection *connection, const char *name, gpointer user_data)
{
  CtrdJob *self = user_data;

  if (self->completed || g_cancellable_is_cancelled (self->cancellable))
    return;
  g_message ("Job %s (%s): its caller %s left the bus; cancelling it", self->object_path,
             ctr_job_get_operation (CTR_JOB (self)), name);
  g_cancellable_cancel (self->cancellable);
}

static void
on_starter_uid (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CtrdJob) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      /* Gone already: the name watch cancels the job. */
      g_debug ("Job %s: no uid for its caller: %s", self->object_path, error->message);
      return;
    }
  g_variant_get (reply, "(u)", &self->starter_uid);
  ctr_job_set_started_by_uid (CTR_JOB (self), self->starter_uid);
}

/* Asks the bus for the uid of @name; @callback gets @user_data. */
static void
query_unix_user (GDBusConnection *connection, const char *name, GCancellable *cancellable,
                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_dbus_connection_call (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionUnixUser",
                          g_variant_new ("(s)", name), G_VARIANT_TYPE ("(u)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, cancellable, callback, user_data);
}

CtrdJob *
ctrd_job_new (CtrdDaemon *daemon, const char *operation, const char *object_path,
              GDBusMethodInvocation *invocation)
{
  CtrdJob *self = g_object_new (CTRD_TYPE_JOB, NULL);
  CtrJob *iface = CTR_JOB (self);
  GDBusObjectManagerServer *manager = ctrd_daemon_get_object_manager (daemon);
  const char *sender = invocation != NULL ? g_dbus_method_invocation_get_sender (invocation) : NULL;

  self->daemon = daemon;
  self->object_path = g_strdup_printf (CTRD_OBJECT_ROOT "/jobs/%u", next_job_number++);
  self->context = g_main_context_ref_thread_default ();
  self->last_publish = g_get_monotonic_time () - PUBLISH_INTERVAL_MS * 1000;

  ctr_job_set_operation (iface, operation);
  ctr_job_set_object (iface, object_path != NULL ? object_path : "/");
  ctr_job_set_started_at (iface, ctrd_now_usec ());
  ctr_job_set_started_by_uid (iface, UID_UNKNOWN);
  /* known after the method's authorization; root's jobs are not bounded */
  if (invocation != NULL && ctrd_authority_get_caller_uid (invocation) != 0)
    {
      self->counted_uid = ctrd_authority_get_caller_uid (invocation);
      if (self->counted_uid != UID_UNKNOWN)
        count_job (self->counted_uid, TRUE);
    }

  if (invocation != NULL && sender != NULL)
    {
      self->connection = g_object_ref (g_dbus_method_invocation_get_connection (invocation));
      self->starter = g_strdup (sender);
      /* A name already gone is reported at once, so a caller that left
       * before the job began still cancels it. */
      self->watch_id = g_bus_watch_name_on_connection (
          self->connection, sender, G_BUS_NAME_WATCHER_FLAGS_NONE, NULL, on_starter_vanished,
          g_object_ref (self), g_object_unref);
      query_unix_user (self->connection, sender, NULL, on_starter_uid, g_object_ref (self));
    }

  if (manager != NULL)
    {
      g_autoptr (CtrObjectSkeleton) object = ctr_object_skeleton_new (self->object_path);
      ctr_object_skeleton_set_job (object, iface);
      g_dbus_object_manager_server_export (manager, G_DBUS_OBJECT_SKELETON (object));
      self->exported = TRUE;
      /* The bus holds the job until it completes. */
      g_object_ref (self);
    }
  g_debug ("Job %s: %s started", self->object_path, operation);
  return self;
}

GCancellable *
ctrd_job_get_cancellable (CtrdJob *self)
{
  return self->cancellable;
}

const char *
ctrd_job_get_object_path (CtrdJob *self)
{
  return self->object_path;
}

void
ctrd_job_set_object (CtrdJob *self, const char *object_path)
{
  ctr_job_set_object (CTR_JOB (self), object_path != NULL ? object_path : "/");
}

/* ---------------------------------------------------------------- progress */

static void
publish_progress (CtrdJob *self, gboolean finished)
{
  CtrJob *iface = CTR_JOB (self);
  guint64 done, total;
  double progress;

  g_mutex_lock (&self->lock);
  done = self->done;
  total = self->total;
  self->publish_scheduled = FALSE;
  self->last_publish = g_get_monotonic_time ();
  g_mutex_unlock (&self->lock);

  if (finished)
    progress = 1.0;
  else if (total > 0)
    /* Totals can be estimates: the bar stops short of full until the end. */
    progress = MIN ((double) done / (double) total, 0.99);
  else
    progress = 0.0;

  g_object_freeze_notify (G_OBJECT (self));
  ctr_job_set_bytes_done (iface, done);
  ctr_job_set_bytes_total (iface, total);
  ctr_job_set_progress (iface, progress);
  g_object_thaw_notify (G_OBJECT (self));
}

static gboolean
on_publish_due (gpointer user_data)
{
  CtrdJob *self = user_data;

  if (!self->completed)
    publish_progress (self, FALSE);
  return G_SOURCE_REMOVE;
}

void
ctrd_job_report_progress (CtrdJob *self, guint64 done, guint64 total)
{
  gint64 wait_ms;
  g_autoptr (GSource) source = NULL;

  g_mutex_lock (&self->lock);
  self->done = done;
  self->total = total;
  if (self->publish_scheduled)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  self->publish_scheduled = TRUE;
  wait_ms = PUBLISH_INTERVAL_MS - (g_get_monotonic_time () - self->last_publish) / 1000;
  g_mutex_unlock (&self->lock);

  source = g_timeout_source_new (CLAMP (wait_ms, 0, PUBLISH_INTERVAL_MS));
  g_source_set_callback (source, on_publish_due, g_object_ref (self), g_object_unref);
  g_source_attach (source, self->context);
}

void
ctrd_job_progress_func (guint64 done, guint64 total, gpointer job)
{
  ctrd_job_report_progress (job, done, total);
}

/* ---------------------------------------------------------------- completion */

void
ctrd_job_complete (CtrdJob *self, const GError *error)
{
  GDBusObjectManagerServer *manager;

  if (self->completed)
    return;
  self->completed = TRUE;
  uncount (self);
  publish_progress (self, error == NULL);
  ctr_job_emit_completed (CTR_JOB (self), error == NULL, error != NULL ? error->message : "");
  g_debug ("Job %s: %s", self->object_path, error == NULL ? "succeeded" : error->message);
  if (self->watch_id != 0)
    {
      g_bus_unwatch_name (self->watch_id);
      self->watch_id = 0;
    }
  if (self->exported)
    {
      self->exported = FALSE;
      manager = ctrd_daemon_get_object_manager (self->daemon);
      if (manager != NULL)
        g_dbus_object_manager_server_unexport (manager, self->object_path);
      g_object_unref (self);
    }
}

/* ---------------------------------------------------------------- Cancel */

static void
cancel_now (CtrdJob *self, GDBusMethodInvocation *invocation)
{
  if (self->completed)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                                             "Job %s has already completed", self->object_path);
      return;
    }
  g_message ("Job %s (%s): cancelled by %s", self->object_path,
             ctr_job_get_operation (CTR_JOB (self)),
             g_dbus_method_invocation_get_sender (invocation));
  g_cancellable_cancel (self->cancellable);
  ctr_job_complete_cancel (CTR_JOB (self), invocation);
}

typedef struct
{
  CtrdJob *job;
  GDBusMethodInvocation *invocation;
} CancelCall;

static void
on_canceller_uid (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CancelCall *call = user_data;
  CtrdJob *self = call->job;
  g_autoptr (GVariant) reply = NULL;
  guint32 uid = UID_UNKNOWN;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(u)", &uid);

  /* Only the starter and root: no polkit action lets one user cancel
   * another's work. A uid the bus would not give is no one's. */
  if (uid != UID_UNKNOWN && (uid == self->starter_uid || uid == 0))
    cancel_now (self, call->invocation);
  else
    g_dbus_method_invocation_return_error (
        call->invocation, CTRD_ERROR, CTRD_ERROR_NOT_AUTHORIZED,
        "Not authorized to Cancel job %s: only the uid that started it (%u) or root may",
        self->object_path, self->starter_uid);
  g_object_unref (call->job);
  g_free (call);
}

static gboolean
handle_cancel (CtrJob *iface, GDBusMethodInvocation *invocation)
{
  CtrdJob *self = CTRD_JOB (iface);
  CancelCall *call;

  if (self->completed)
    {
      g_dbus_method_invocation_return_error (invocation, CTRD_ERROR, CTRD_ERROR_INVALID_STATE,
                                             "Job %s has already completed", self->object_path);
      return TRUE;
    }
  call = g_new0 (CancelCall, 1);
  call->job = g_object_ref (self);
  call->invocation = invocation;
  query_unix_user (g_dbus_method_invocation_get_connection (invocation),
                   g_dbus_method_invocation_get_sender (invocation), NULL, on_canceller_uid, call);
  return TRUE;
}

static void
ctrd_job_iface_init (CtrJobIface *iface)
{
  iface->handle_cancel = handle_cancel;
}
