/* ctrd-authority.c: polkit checks with the caller's bus name as subject. */
#include "config.h"

#include <string.h>

#include <polkit/polkit.h>

#include "ctrd-authority.h"
#include "ctrd-error.h"

/* A check nobody answers is a denial after this long; interactive checks wait
 * for a person to type a password. */
#define CHECK_TIMEOUT_SECONDS 30
#define INTERACTIVE_CHECK_TIMEOUT_SECONDS 300
/* No uid (never one the kernel gives): an object of no one in particular, a
 * caller the bus has not named yet. */
#define UID_NONE G_MAXUINT32

/* Each check is one call pending on the daemon's bus connection, which may
 * have only 128 replies pending: so each non-root uid has a few checks with
 * polkitd at a time, a bounded queue behind them (LimitExceeded beyond it),
 * and all uids together stay well under the bus's limit. One user's flood
 * then waits in its own queue, and another user's call goes straight on. */
#define CHECKS_ASKED_PER_UID 4
#define CHECKS_QUEUED_PER_UID 64
#define CHECKS_ASKED_TOTAL 48
/* A denied caller is logged at most once in this long (with a count). */
#define DENIAL_LOG_INTERVAL_USEC (10 * G_USEC_PER_SEC)

struct _CtrdAuthority
{
  PolkitAuthority *polkit; /* NULL until (and unless) it is obtained */
  GError *polkit_error;    /* why it could not be obtained */
  gboolean polkit_pending;
  GSList *waiting; /* checks that wait for the authority (Check*) */
  GList *pending;  /* every check under way (Check*) */
  GHashTable *callers; /* uid -> Caller, for non-root uids with checks or recent denials */
  guint asked_total;   /* checks counted in their caller's asked */
  gboolean dispatching;
};

typedef struct
{
  guint asked;        /* checks of this uid with polkitd (or waiting for the authority) */
  GQueue queued;      /* Check*, waiting for a turn */
  gint64 denial_logged_at; /* monotonic time of the last logged denial */
  guint denials_unlogged;  /* denials since then */
} Caller;

typedef struct
{
  CtrdAuthority *authority;
  GDBusInterfaceSkeleton *object; /* the object the call was made on */
  GDBusMethodInvocation *invocation;
  char *action_id;
  char *detail_key;
  char *detail_value;
  CtrdAuthorizedFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
  GCancellable *cancellable;
  guint timeout_id;
  gboolean vanished; /* the caller left the bus meanwhile */
  guint32 owner_uid; /* the object's owner, UID_NONE if none */
  guint32 uid;       /* the caller's, from the bus; UID_NONE until known */
  gboolean asked;    /* counted in its caller's asked */
  gboolean queued;   /* in its caller's queue */
} Check;

static void dispatch_queued (CtrdAuthority *authority);
static void ask_polkit (Check *check);

/* Where the caller's uid is kept on the invocation. */
static GQuark
caller_uid_quark (void)
{
  return g_quark_from_static_string ("ctrd-authority-caller-uid");
}

static Caller *
caller_for_uid (CtrdAuthority *authority, guint32 uid)
{
  Caller *caller = g_hash_table_lookup (authority->callers, GUINT_TO_POINTER (uid));

  if (caller == NULL)
    {
      caller = g_new0 (Caller, 1);
      g_queue_init (&caller->queued);
      g_hash_table_insert (authority->callers, GUINT_TO_POINTER (uid), caller);
    }
  return caller;
}

static void
check_free (Check *check)
{
  CtrdAuthority *authority = check->authority;

  if (check->asked || check->queued)
    {
      Caller *caller = caller_for_uid (authority, check->uid);
      if (check->queued)
        g_queue_remove (&caller->queued, check);
      if (check->asked)
        {
          caller->asked--;
          authority->asked_total--;
        }
    }
  check->authority->pending = g_list_remove (check->authority->pending, check);
  if (check->destroy != NULL)
    check->destroy (check->user_data);
  g_clear_handle_id (&check->timeout_id, g_source_remove);
  g_clear_object (&check->cancellable);
  g_object_unref (check->invocation);
  g_object_unref (check->object);
  g_free (check->action_id);
  g_free (check->detail_key);
  g_free (check->detail_value);
  g_free (check);
  dispatch_queued (authority);
}

/* One line per caller per DENIAL_LOG_INTERVAL_USEC: a flood of denied calls
 * must not flood the log. */
static gboolean
should_log_denial (Check *check, guint *out_unlogged)
{
  Caller *caller = caller_for_uid (check->authority, check->uid);
  gint64 now = g_get_monotonic_time ();

  if (caller->denial_logged_at != 0 && now - caller->denial_logged_at < DENIAL_LOG_INTERVAL_USEC)
    {
      caller->denials_unlogged++;
      return FALSE;
    }
  *out_unlogged = caller->denials_unlogged;
  caller->denial_logged_at = now;
  caller->denials_unlogged = 0;
  return TRUE;
}

static void
deny (Check *check, const char *reason)
{
  guint unlogged = 0;

  if (should_log_denial (check, &unlogged))
    g_message ("Denied %s to %s (uid %d): %s%s", check->action_id,
               g_dbus_method_invocation_get_sender (check->invocation),
               check->uid == UID_NONE ? -1 : (int) check->uid, reason,
               unlogged > 0 ? " (and more denials of this uid not logged)" : "");
  g_dbus_method_invocation_return_error (
      check->invocation, CTRD_ERROR, CTRD_ERROR_NOT_AUTHORIZED,
      "Not authorized to %s%s%s (polkit action %s)",
      g_dbus_method_invocation_get_method_name (check->invocation),
      check->detail_value != NULL ? " " : "",
      check->detail_value != NULL ? check->detail_value : "", check->action_id);
  check_free (check);
}

/* "Container web was removed": the last part of the interface name, and the
 * detail the check names the object by. */
static void
answer_gone (Check *check)
{
  const char *interface = g_dbus_interface_skeleton_get_info (check->object)->name;
  const char *dot = strrchr (interface, '.');

  g_dbus_method_invocation_return_error (check->invocation, CTRD_ERROR, CTRD_ERROR_NOT_FOUND,
                                         "%s%s%s was removed", dot != NULL ? dot + 1 : interface,
                                         check->detail_value != NULL ? " " : "",
                                         check->detail_value != NULL ? check->detail_value : "");
  check_free (check);
}

static void
allow (Check *check)
{
  /* A caller gone while polkit was asked must not have its call acted on
   * (it could be anyone's name by now; CVE-2021-3560 was the opposite
   * mistake: an error read as success). */
  if (check->vanished)
    {
      deny (check, "the caller left the bus");
      return;
    }
  /* The object may have been removed while polkit was asked: an unexported
   * skeleton is no longer reachable, and its method must not run. */
  if (!g_dbus_interface_skeleton_has_connection (
          check->object, g_dbus_method_invocation_get_connection (check->invocation)))
    {
      answer_gone (check);
      return;
    }
  /* @func takes the data: nothing is left for @destroy. */
  check->destroy = NULL;
  check->func (check->object, check->invocation, check->user_data);
  check_free (check);
}

static gboolean
on_check_timeout (gpointer user_data)
{
  Check *check = user_data;

  check->timeout_id = 0;
  g_cancellable_cancel (check->cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_polkit_checked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Check *check = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (PolkitAuthorizationResult) answer = NULL;

  answer = polkit_authority_check_authorization_finish (POLKIT_AUTHORITY (source), result, &error);
  if (answer == NULL)
    {
      deny (check, error->message);
      return;
    }
  if (!polkit_authorization_result_get_is_authorized (answer))
    {
      deny (check, polkit_authorization_result_get_is_challenge (answer)
                       ? "authentication required (no interaction allowed)"
                       : "polkit said no");
      return;
    }
  /* Someone else's object: the method's own action is not enough. The check
   * goes on as one for manage-others, so a denial names that action. */
  if (check->owner_uid != UID_NONE && check->uid != check->owner_uid &&
      strcmp (check->action_id, CTRD_ACTION_CONTAINER_MANAGE_OTHERS) != 0)
    {
      g_free (check->action_id);
      check->action_id = g_strdup (CTRD_ACTION_CONTAINER_MANAGE_OTHERS);
      g_clear_handle_id (&check->timeout_id, g_source_remove);
      ask_polkit (check);
      return;
    }
  allow (check);
}

static void
ask_polkit (Check *check)
{
  CtrdAuthority *authority = check->authority;
  GDBusMessage *message = g_dbus_method_invocation_get_message (check->invocation);
  gboolean interactive = (g_dbus_message_get_flags (message) &
                          G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) != 0;
  g_autoptr (PolkitSubject) subject = NULL;
  g_autoptr (PolkitDetails) details = NULL;

  if (authority->polkit == NULL)
    {
      deny (check, authority->polkit_error != NULL ? authority->polkit_error->message
                                                   : "no polkit authority");
      return;
    }
  /* A polkit proxy with no owner answers at once with an error: no polkitd
   * means a quick denial for everyone but root. */
  subject = polkit_system_bus_name_new (g_dbus_method_invocation_get_sender (check->invocation));
  details = polkit_details_new ();
  if (check->detail_key != NULL && check->detail_value != NULL)
    polkit_details_insert (details, check->detail_key, check->detail_value);

  check->timeout_id = g_timeout_add_seconds (interactive ? INTERACTIVE_CHECK_TIMEOUT_SECONDS
                                                         : CHECK_TIMEOUT_SECONDS,
                                             on_check_timeout, check);
  polkit_authority_check_authorization (
      authority->polkit, subject, check->action_id, details,
      interactive ? POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION
                  : POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE,
      check->cancellable, on_polkit_checked, check);
}

static void
on_polkit_authority (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CtrdAuthority *authority = user_data;
  GSList *waiting;

  authority->polkit = polkit_authority_get_finish (result, &authority->polkit_error);
  authority->polkit_pending = FALSE;
  if (authority->polkit == NULL)
    g_warning ("No polkit authority (%s): only root will be served",
               authority->polkit_error->message);

  waiting = g_slist_reverse (g_steal_pointer (&authority->waiting));
  for (GSList *l = waiting; l != NULL; l = l->next)
    ask_polkit (l->data);
  g_slist_free (waiting);
}

/* Counts @check as asked and sends it to polkitd (or to wait for the
 * authority). */
static void
start_check (Check *check)
{
  Caller *caller = caller_for_uid (check->authority, check->uid);

  check->asked = TRUE;
  caller->asked++;
  check->authority->asked_total++;
  if (check->authority->polkit_pending)
    check->authority->waiting = g_slist_prepend (check->authority->waiting, check);
  else
    ask_polkit (check);
}

static void
on_unix_user (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Check *check = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  guint32 uid;
  Caller *caller;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      /* Most likely the caller has left the bus: never a reason to allow. */
      deny (check, error->message);
      return;
    }
  g_variant_get (reply, "(u)", &uid);
  check->uid = uid;
  g_object_set_qdata (G_OBJECT (check->invocation), caller_uid_quark (),
                      GSIZE_TO_POINTER ((gsize) uid + 1));
  if (uid == 0)
    {
      allow (check);
      return;
    }
  caller = caller_for_uid (check->authority, uid);
  if (caller->asked < CHECKS_ASKED_PER_UID &&
      check->authority->asked_total < CHECKS_ASKED_TOTAL && g_queue_is_empty (&caller->queued))
    {
      start_check (check);
      return;
    }
  if (g_queue_get_length (&caller->queued) >= CHECKS_QUEUED_PER_UID)
    {
      g_dbus_method_invocation_return_error (
          check->invocation, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
          "Too many authorization checks in flight for uid %u (at most %d asked and %d "
          "waiting): try again later",
          uid, CHECKS_ASKED_PER_UID, CHECKS_QUEUED_PER_UID);
      check_free (check);
      return;
    }
  check->queued = TRUE;
  g_queue_push_tail (&caller->queued, check);
}

/* Starts queued checks while their uids and the total have room; the uids
 * take turns. Not re-entered from the checks it starts. */
static void
dispatch_queued (CtrdAuthority *authority)
{
  gboolean started = TRUE;

  if (authority->dispatching)
    return;
  authority->dispatching = TRUE;
  while (started && authority->asked_total < CHECKS_ASKED_TOTAL)
    {
      GHashTableIter iter;
      gpointer value;

      started = FALSE;
      g_hash_table_iter_init (&iter, authority->callers);
      while (g_hash_table_iter_next (&iter, NULL, &value) &&
             authority->asked_total < CHECKS_ASKED_TOTAL)
        {
          Caller *caller = value;
          Check *check;

          if (caller->asked >= CHECKS_ASKED_PER_UID || g_queue_is_empty (&caller->queued))
            continue;
          check = g_queue_pop_head (&caller->queued);
          check->queued = FALSE;
          started = TRUE;
          /* may answer (and free) it at once, and change the table: start over */
          start_check (check);
          break;
        }
    }
  authority->dispatching = FALSE;
}

CtrdAuthority *
ctrd_authority_new (void)
{
  CtrdAuthority *authority = g_new0 (CtrdAuthority, 1);

  /* Asynchronous, so the daemon starts whether or not polkitd answers. */
  authority->callers = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  authority->polkit_pending = TRUE;
  polkit_authority_get_async (NULL, on_polkit_authority, authority);
  return authority;
}

void
ctrd_authority_free (CtrdAuthority *authority)
{
  if (authority == NULL)
    return;
  /* The daemon frees it at exit only; pending checks die with the process. */
  g_clear_object (&authority->polkit);
  g_clear_error (&authority->polkit_error);
  g_clear_pointer (&authority->callers, g_hash_table_unref);
  g_free (authority);
}

void
ctrd_authority_check (CtrdAuthority *authority, gpointer object, GDBusMethodInvocation *invocation,
                      const char *action_id, const char *detail_key, const char *detail_value,
                      CtrdAuthorizedFunc func, gpointer user_data, GDestroyNotify destroy)
{
  ctrd_authority_check_owned (authority, object, invocation, action_id, UID_NONE, detail_key,
                              detail_value, func, user_data, destroy);
}

guint32
ctrd_authority_get_caller_uid (GDBusMethodInvocation *invocation)
{
  gpointer stored = g_object_get_qdata (G_OBJECT (invocation), caller_uid_quark ());

  return stored != NULL ? (guint32) (GPOINTER_TO_SIZE (stored) - 1) : UID_NONE;
}

void
ctrd_authority_check_owned (CtrdAuthority *authority, gpointer object,
                            GDBusMethodInvocation *invocation, const char *action_id,
                            guint32 owner_uid, const char *detail_key, const char *detail_value,
                            CtrdAuthorizedFunc func, gpointer user_data, GDestroyNotify destroy)
{
  Check *check;

  g_return_if_fail (G_IS_DBUS_INTERFACE_SKELETON (object));
  check = g_new0 (Check, 1);
  check->authority = authority;
  check->object = g_object_ref (object);
  check->invocation = g_object_ref (invocation);
  check->action_id = g_strdup (action_id);
  check->detail_key = g_strdup (detail_key);
  check->detail_value = g_strdup (detail_value);
  check->func = func;
  check->user_data = user_data;
  check->destroy = destroy;
  check->cancellable = g_cancellable_new ();
  check->owner_uid = owner_uid;
  check->uid = UID_NONE;
  authority->pending = g_list_prepend (authority->pending, check);

  /* The uid comes from the bus, never from the caller or /proc. */
  g_dbus_connection_call (g_dbus_method_invocation_get_connection (invocation),
                          "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                          "GetConnectionUnixUser",
                          g_variant_new ("(s)", g_dbus_method_invocation_get_sender (invocation)),
                          G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE,
                          CHECK_TIMEOUT_SECONDS * 1000, check->cancellable, on_unix_user, check);
}

void
ctrd_authority_client_vanished (CtrdAuthority *authority, const char *unique_name)
{
  g_autoptr (GPtrArray) queued = g_ptr_array_new ();

  for (GList *l = authority->pending; l != NULL; l = l->next)
    {
      Check *check = l->data;
      if (g_strcmp0 (g_dbus_method_invocation_get_sender (check->invocation), unique_name) != 0)
        continue;
      check->vanished = TRUE;
      g_cancellable_cancel (check->cancellable);
      if (check->queued)
        g_ptr_array_add (queued, check);
    }
  /* a queued check has nothing to cancel: it ends now, not at its turn */
  for (guint i = 0; i < queued->len; i++)
    deny (queued->pdata[i], "the caller left the bus");
}
