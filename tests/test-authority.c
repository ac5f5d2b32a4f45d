/* Tests for ctrd-authority on a private session bus (GTestDBus, no polkitd):
 * the callback gets the object, the object is looked at again after the
 * asynchronous check, a caller that left is denied, and the data is freed
 * exactly once whichever way the check ends, and an object with an owner
 * is still root's to act on. The caller is root, so the checks pass without
 * asking polkit. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "ctr-generated.h"
#include "ctrd-authority.h"
#include "ctrd-error.h"

#define OBJECT_PATH "/org/example/Containers1/containers/web"
#define TEST_ACTION "org.example.containers1.container.manage"

typedef enum
{
  AFTER_CHECK_NOTHING,
  AFTER_CHECK_UNEXPORT,    /* the object goes while the check is under way */
  AFTER_CHECK_CALLER_LEFT, /* the daemon hears the caller left the bus */
} AfterCheck;

/* One bus and one authority for the whole program, as in the daemon:
 * GTestDBus is not made to come and go while polkit's singleton holds a
 * connection to it, and an authority lives until polkit has answered. */
static GTestDBus *test_bus;
static CtrdAuthority *test_authority;

typedef struct
{
  GDBusConnection *server;
  GDBusConnection *client;
  GDBusObjectManagerServer *manager;
  CtrContainer *container; /* the skeleton the calls are made on */
  AfterCheck after_check;
  guint authorized;     /* the callback ran */
  gpointer seen_object; /* what the callback got */
  guint data_freed;     /* the data's destroy notify ran (or the callback freed it) */
  gboolean owned;       /* ctrd_authority_check_owned with @owner */
  guint32 owner;
  guint32 seen_uid; /* ctrd_authority_get_caller_uid in the callback */
} Fixture;

static GDBusConnection *
connect_to (GTestDBus *bus)
{
  g_autoptr (GError) error = NULL;
  GDBusConnection *connection =
      g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (bus),
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                  G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                              NULL, NULL, &error);

  g_assert_no_error (error);
  return connection;
}

static void
free_test_data (gpointer user_data)
{
  Fixture *fx = user_data;

  fx->data_freed++;
}

static void
on_authorized (gpointer object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  Fixture *fx = user_data;

  fx->authorized++;
  fx->seen_object = object;
  fx->seen_uid = ctrd_authority_get_caller_uid (invocation);
  /* The callback takes the data: it frees it itself. */
  free_test_data (fx);
  ctr_container_complete_start (CTR_CONTAINER (object), invocation);
}

static gboolean
on_handle_start (CtrContainer *container, GDBusMethodInvocation *invocation, gpointer user_data)
{
  Fixture *fx = user_data;

  /* Nothing asked the bus for this caller's uid yet. */
  g_assert_cmpuint (ctrd_authority_get_caller_uid (invocation), ==, G_MAXUINT32);
  if (fx->owned)
    ctrd_authority_check_owned (test_authority, container, invocation, TEST_ACTION, fx->owner,
                                "container.name", "web", on_authorized, fx, free_test_data);
  else
    ctrd_authority_check (test_authority, container, invocation, TEST_ACTION, "container.name",
                          "web", on_authorized, fx, free_test_data);
  /* The check is asynchronous: whatever happens now happens before its end. */
  if (fx->after_check == AFTER_CHECK_UNEXPORT)
    g_dbus_object_manager_server_unexport (fx->manager, OBJECT_PATH);
  else if (fx->after_check == AFTER_CHECK_CALLER_LEFT)
    ctrd_authority_client_vanished (test_authority,
                                    g_dbus_method_invocation_get_sender (invocation));
  return TRUE;
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (CtrObjectSkeleton) object = ctr_object_skeleton_new (OBJECT_PATH);

  fx->server = connect_to (test_bus);
  fx->client = connect_to (test_bus);

  fx->manager = g_dbus_object_manager_server_new ("/org/example/Containers1");
  fx->container = ctr_container_skeleton_new ();
  g_signal_connect (fx->container, "handle-start", G_CALLBACK (on_handle_start), fx);
  ctr_object_skeleton_set_container (object, fx->container);
  g_dbus_object_manager_server_export (fx->manager, G_DBUS_OBJECT_SKELETON (object));
  g_dbus_object_manager_server_set_connection (fx->manager, fx->server);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  g_clear_object (&fx->manager);
  g_clear_object (&fx->container);
  g_dbus_connection_close_sync (fx->client, NULL, NULL);
  g_dbus_connection_close_sync (fx->server, NULL, NULL);
  g_clear_object (&fx->client);
  g_clear_object (&fx->server);
}

static void
on_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* Calls Container.Start on the test object from the client connection and
 * runs the main loop until the answer. */
static GVariant *
call_start (Fixture *fx, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  g_dbus_connection_call (fx->client, g_dbus_connection_get_unique_name (fx->server), OBJECT_PATH,
                          "org.example.Containers1.Container", "Start", NULL, NULL,
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_call_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return g_dbus_connection_call_finish (fx->client, result, error);
}

/* Root passes without polkitd; anyone else is denied here. */
static gboolean
caller_is_root (void)
{
  if (getuid () == 0)
    return TRUE;
  g_test_skip ("the caller must be root to pass without polkitd");
  return FALSE;
}

/* Authorized: the callback gets the object the call was made on and takes
 * the data; the destroy notify is not called on it again. */
static void
test_authorized (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;

  if (!caller_is_root ())
    return;
  reply = call_start (fx, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_cmpuint (fx->authorized, ==, 1);
  g_assert_true (fx->seen_object == (gpointer) fx->container);
  g_assert_cmpuint (fx->data_freed, ==, 1);
  g_assert_cmpuint (fx->seen_uid, ==, 0);
}

/* Another uid's object: root is always allowed (no manage-others asked, so
 * no polkitd needed), and the callback knows the caller is uid 0. */
static void
test_owned_by_other (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;

  if (!caller_is_root ())
    return;
  fx->owned = TRUE;
  fx->owner = 1000;
  reply = call_start (fx, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_cmpuint (fx->authorized, ==, 1);
  g_assert_cmpuint (fx->data_freed, ==, 1);
  g_assert_cmpuint (fx->seen_uid, ==, 0);
}

/* The object was unexported while the check ran: NotFound naming it, no
 * callback, the data freed once. */
static void
test_object_removed (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *remote = NULL;

  if (!caller_is_root ())
    return;
  fx->after_check = AFTER_CHECK_UNEXPORT;
  reply = call_start (fx, &error);
  g_assert_null (reply);
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, "org.example.Containers1.Error.NotFound");
  g_assert_nonnull (strstr (error->message, "Container web was removed"));
  g_assert_cmpuint (fx->authorized, ==, 0);
  g_assert_cmpuint (fx->data_freed, ==, 1);
}

/* The caller left the bus while the check ran: a denial, never the
 * callback, the data freed once. */
static void
test_caller_left (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *remote = NULL;

  fx->after_check = AFTER_CHECK_CALLER_LEFT;
  reply = call_start (fx, &error);
  g_assert_null (reply);
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, "org.example.Containers1.Error.NotAuthorized");
  g_assert_nonnull (strstr (error->message, TEST_ACTION));
  g_assert_cmpuint (fx->authorized, ==, 0);
  g_assert_cmpuint (fx->data_freed, ==, 1);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  /* Registers the org.example.Containers1.Error names on both sides. */
  g_assert_cmpuint (CTRD_ERROR, !=, 0);
  test_bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (test_bus);
  /* polkit is looked for on the test bus, where nobody owns its name. */
  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", g_test_dbus_get_bus_address (test_bus), TRUE);
  test_authority = ctrd_authority_new ();

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/authority/authorized", test_authorized);
  ADD ("/authority/owned-by-other", test_owned_by_other);
  ADD ("/authority/object-removed", test_object_removed);
  ADD ("/authority/caller-left", test_caller_left);
#undef ADD

  status = g_test_run ();
  g_test_dbus_stop (test_bus);
  g_object_unref (test_bus);
  return status;
}
