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

struct _CtrdAuthority
{
  PolkitAuthority *polkit; /* NULL until (and unless) it is obtained */
  GError *polkit_error;    /* why it could not be obtained */
  gboolean polkit_pending;
  GSList *waiting; /* checks that wait for the authority (Check*) */
  GList *pending;  /* every check under way (Check*) */
};

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
  guint32 owner_uid;  /* the object's owner, UID_NONE if none */
  guint32 caller_uid; /* from the bus, once known */
} Check;

static void ask_polkit (Check *check);

/* Where the caller's uid is kept on the invocation. */
static GQuark
caller_uid_quark (void)
{
  return g_quark_from_static_string ("ctrd-authority-caller-uid");
}

static void
check_free (Check *check)
{
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
}

static void
deny (Check *check, const char *reason)
{
  g_message ("Denied %s to %s: %s", check->action_id,
             g_dbus_method_invocation_get_sender (check->invocation), reason);
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
  if (check->owner_uid != UID_NONE && check->caller_uid != check->owner_uid &&
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

static void
on_unix_user (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Check *check = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  guint32 uid;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      /* Most likely the caller has left the bus: never a reason to allow. */
      deny (check, error->message);
      return;
    }
  g_variant_get (reply, "(u)", &uid);
  check->caller_uid = uid;
  g_object_set_qdata (G_OBJECT (check->invocation), caller_uid_quark (),
                      GSIZE_TO_POINTER ((gsize) uid + 1));
  if (uid == 0)
    {
      allow (check);
      return;
    }
  if (check->authority->polkit_pending)
    check->authority->waiting = g_slist_prepend (check->authority->waiting, check);
  else
    ask_polkit (check);
}

CtrdAuthority *
ctrd_authority_new (void)
{
  CtrdAuthority *authority = g_new0 (CtrdAuthority, 1);

  /* Asynchronous, so the daemon starts whether or not polkitd answers. */
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

  return stored != NULL ? (guint32) (GPOINTER_TO_SIZE (stored) - 1) : G_MAXUINT32;
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
  check->owner_uid = owner_uid;
  check->caller_uid = UID_NONE;
  check->cancellable = g_cancellable_new ();
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
  for (GList *l = authority->pending; l != NULL; l = l->next)
    {
      Check *check = l->data;
      if (g_strcmp0 (g_dbus_method_invocation_get_sender (check->invocation), unique_name) == 0)
        {
          check->vanished = TRUE;
          g_cancellable_cancel (check->cancellable);
        }
    }
}
