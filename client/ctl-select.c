/* ctl-select.c: which objects a verb acts on, chosen as podman chooses them
 * (the names given, those of them that exist with --ignore, or every one
 * with --all); the verbs acting on several containers or images at once
 * (start, stop, restart, kill, rm, rmi); the exists verbs; and podman's
 * messages and exit codes for what is missing, which scripts depend on.
 *
 * Like podman, named containers are all looked up before any is acted on,
 * so a typo changes nothing; after that a failure is reported and the
 * others are still handled. */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "ctl.h"

#define ERROR_INVALID_STATE "org.example.Containers1.Error.InvalidState"
#define ERROR_IN_USE "org.example.Containers1.Error.InUse"

/* podman's codes beside 125: rm and rmi say 1 for what is missing and 2
 * for what is running or in use. */
#define EXIT_MISSING 1
#define EXIT_IN_USE 2

/* ---- podman's messages */

void
not_found_as_podman (GError *error, ObjectKind kind, const char *name)
{
  g_autofree char *remote_name = NULL;
  g_autofree char *text = NULL;

  if (error == NULL || !error_is_not_found (error))
    return;
  switch (kind)
    {
    case OBJECT_CONTAINER:
      text = g_strdup_printf ("no container with name or ID \"%s\" found: no such container", name);
      break;
    case OBJECT_IMAGE:
      text = g_strdup_printf ("%s: image not known", name);
      break;
    case OBJECT_NETWORK:
      text = g_strdup_printf ("unable to find network with name or ID %s: network not found", name);
      break;
    case OBJECT_VOLUME:
    default:
      text = g_strdup_printf ("no volume with name \"%s\" found: no such volume", name);
      break;
    }
  /* kept a remote error, so that --debug and error_is_not_found still see
   * the daemon's error name */
  remote_name = g_dbus_error_get_remote_error (error);
  g_free (error->message);
  error->message = g_strdup_printf ("GDBus.Error:%s: %s", remote_name, text);
}

static gboolean
error_is (const GError *error, const char *name)
{
  g_autofree char *remote_name = g_dbus_error_get_remote_error (error);

  return g_strcmp0 (remote_name, name) == 0;
}

/* ---- the exists verbs */

/* Manager's @method (GetContainer...) with @name: 0 when it answers, 1 when
 * the object is missing, 125 (and the error printed) otherwise. Prints
 * nothing else, as podman's exists. */
static int
object_exists (Client *client, const char *method, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;

  if (client_connect (client, &error))
    reply =
        g_dbus_connection_call_sync (client->bus, BUS_NAME, MANAGER_PATH, BUS_NAME ".Manager",
                                     method, g_variant_new ("(s)", name), G_VARIANT_TYPE ("(o)"),
                                     G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  if (reply != NULL)
    return 0;
  if (error_is_not_found (error))
    return EXIT_MISSING;
  return print_error (client, error);
}

static int
exists_verb (Client *client, const Verb *verb, const GOptionEntry *entries, const char *method,
             int argc, char **argv)
{
  if (!parse_verb_options (verb, entries, NULL,
                           "Exits 0 when it exists, 1 when it does not, 125 on other errors.",
                           FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 1, 1))
    return EXIT_ERROR;
  return object_exists (client, method, argv[1]);
}

int
verb_container_exists (Client *client, const Verb *verb, int argc, char **argv)
{
  gboolean external = FALSE;
  const GOptionEntry entries[] = {
    { "external", 0, 0, G_OPTION_ARG_NONE, &external,
      "Accepted as podman's (containersd has no external containers)", NULL },
    { NULL }
  };

  return exists_verb (client, verb, entries, "GetContainer", argc, argv);
}

int
verb_image_exists (Client *client, const Verb *verb, int argc, char **argv)
{
  return exists_verb (client, verb, NULL, "GetImage", argc, argv);
}

int
network_exists (Client *client, const Verb *verb, int argc, char **argv)
{
  return exists_verb (client, verb, NULL, "GetNetwork", argc, argv);
}

int
volume_exists (Client *client, const Verb *verb, int argc, char **argv)
{
  return exists_verb (client, verb, NULL, "GetVolume", argc, argv);
}

/* ---- choosing containers */

/* One container to act on, and what to print for it. */
typedef struct
{
  char *path;
  /* what the user typed, as podman prints it; the full ID with --all */
  char *shown;
  /* with --all, the State listed; NULL when it is not known */
  char *state;
} Target;

static void
target_free (gpointer data)
{
  Target *target = data;

  g_free (target->path);
  g_free (target->shown);
  g_free (target->state);
  g_free (target);
}

typedef struct
{
  gboolean all;
  gboolean ignore;
  /* with --all, the containers acted on (NULL: every one) */
  gboolean (*wanted) (const char *state);
  /* the exit status when a named container is missing, and when one is in
   * the wrong state: podman's rm says 1 and 2, its other verbs 125 */
  int missing_status;
  int invalid_state_status;
  /* podman's usage errors for --all with names, and for no name at all */
  const char *all_with_names;
  const char *no_names;
} Selection;

static GPtrArray *
select_all (Client *client, const Selection *selection, GError **error)
{
  g_autoptr (GPtrArray) objects = list_objects (client, CONTAINER_IFACE, -1, error);
  g_autoptr (GPtrArray) targets = g_ptr_array_new_with_free_func (target_free);

  if (objects == NULL)
    return NULL;
  for (guint i = 0; i < objects->len; i++)
    {
      const char *id = prop_str (objects->pdata[i], "Id");
      const char *state = prop_str (objects->pdata[i], "State");
      Target *target;

      if (*id == '\0' || (selection->wanted != NULL && !selection->wanted (state)))
        continue;
      target = g_new0 (Target, 1);
      target->path = g_strdup_printf ("%s/containers/%s", MANAGER_PATH, id);
      target->shown = g_strdup (id);
      target->state = g_strdup (state);
      g_ptr_array_add (targets, target);
    }
  return g_steal_pointer (&targets);
}

/* The containers named in argv[1..] (or every wanted one with --all). A
 * missing name is left out with --ignore; without, it is reported and
 * nothing is returned, so nothing is done. NULL with *@status set when the
 * verb is done. */
static GPtrArray *
select_containers (Client *client, const Selection *selection, int argc, char **argv, int *status)
{
  g_autoptr (GPtrArray) targets = g_ptr_array_new_with_free_func (target_free);
  g_autoptr (GError) error = NULL;
  CtrManager *manager;

  *status = EXIT_ERROR;
  if (selection->all && argc > 1)
    {
      usage_error ("%s", selection->all_with_names);
      return NULL;
    }
  if (!selection->all && argc < 2)
    {
      usage_error ("%s", selection->no_names);
      return NULL;
    }
  if (selection->all)
    {
      GPtrArray *all = select_all (client, selection, &error);

      if (all == NULL)
        print_error (client, error);
      return all;
    }
  manager = client_get_manager (client, FALSE, &error);
  if (manager == NULL)
    {
      print_error (client, error);
      return NULL;
    }
  for (int i = 1; i < argc; i++)
    {
      g_autofree char *path = NULL;
      Target *target;

      if (!ctr_manager_call_get_container_sync (manager, argv[i], &path, NULL, &error))
        {
          if (selection->ignore && error_is_not_found (error))
            {
              g_clear_error (&error);
              continue;
            }
          not_found_as_podman (error, OBJECT_CONTAINER, argv[i]);
          print_error (client, error);
          if (error_is_not_found (error))
            *status = selection->missing_status;
          return NULL;
        }
      target = g_new0 (Target, 1);
      target->path = g_steal_pointer (&path);
      target->shown = g_strdup (argv[i]);
      g_ptr_array_add (targets, target);
    }
  return g_steal_pointer (&targets);
}

static gboolean
call_container (Client *client, const Target *target, const char *method, GVariant *parameters,
                int timeout_ms, GError **error)
{
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_sync (client->bus, BUS_NAME, target->path, CONTAINER_IFACE, method,
                                   parameters, NULL, CALL_CHANGING, timeout_ms, NULL, error);

  return reply != NULL;
}

/* Whether the container is in @state: from the listing with --all, else
 * asked. */
static gboolean
target_state_is (Client *client, const Target *target, const char *state)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) value = NULL;

  if (target->state != NULL)
    return g_str_equal (target->state, state);
  reply = g_dbus_connection_call_sync (
      client->bus, BUS_NAME, target->path, "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", CONTAINER_IFACE, "State"), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(v)", &value);
  return g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) &&
         g_str_equal (g_variant_get_string (value, NULL), state);
}

/* Whether the container at @path is still there (its Id answers): a
 * NotFound about something else it needs, such as its image or its seccomp
 * profile, keeps the daemon's own message. */
static gboolean
container_still_there (Client *client, const char *path)
{
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      client->bus, BUS_NAME, path, "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", BUS_NAME ".Container", "Id"), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);

  return reply != NULL;
}

typedef enum
{
  ACTED,
  ACTED_QUIETLY, /* nothing to do, and nothing printed */
  FAILED,
} Outcome;

typedef Outcome (*ContainerAction) (Client *client, const Target *target, gconstpointer data,
                                    GError **error);

/* Runs @action on each target: prints what was given (or the ID) for each
 * done; a failure is printed and the others are still handled. Returns the
 * highest exit status, as podman's worst error wins. */
static int
act_on_each (Client *client, const Selection *selection, GPtrArray *targets, ContainerAction action,
             gconstpointer data)
{
  int status = 0;

  for (guint i = 0; i < targets->len; i++)
    {
      const Target *target = targets->pdata[i];
      g_autoptr (GError) error = NULL;
      Outcome outcome = action (client, target, data, &error);

      if (outcome == ACTED)
        g_print ("%s\n", target->shown);
      if (outcome != FAILED)
        continue;
      if (error_is_not_found (error) && container_still_there (client, target->path))
        {
          print_error (client, error);
          status = MAX (status, EXIT_ERROR);
          continue;
        }
      /* removed since it was looked up: gone is what --ignore and --all want */
      if (error_is_not_found (error) && (selection->ignore || selection->all))
        continue;
      not_found_as_podman (error, OBJECT_CONTAINER, target->shown);
      print_error (client, error);
      if (error_is_not_found (error))
        status = MAX (status, selection->missing_status);
      else if (error_is (error, ERROR_INVALID_STATE))
        status = MAX (status, selection->invalid_state_status);
      else
        status = MAX (status, EXIT_ERROR);
    }
  return status;
}

static int
select_and_act (Client *client, const Selection *selection, int argc, char **argv,
                ContainerAction action, gconstpointer data)
{
  g_autoptr (GPtrArray) targets = NULL;
  int status;

  targets = select_containers (client, selection, argc, argv, &status);
  if (targets == NULL)
    return status;
  return act_on_each (client, selection, targets, action, data);
}

/* What Start, Stop and Kill accept: podman's --all picks the same. */
static gboolean
state_can_start (const char *state)
{
  return g_str_equal (state, "configured") || g_str_equal (state, "exited") ||
         g_str_equal (state, "stopped");
}

static gboolean
state_is_up (const char *state)
{
  return g_str_equal (state, "running") || g_str_equal (state, "paused") ||
         g_str_equal (state, "stopping");
}

/* podman's usage errors and exit codes for stop, restart and kill; start
 * and rm differ in some */
static const Selection podman_selection = {
  .missing_status = EXIT_ERROR,
  .invalid_state_status = EXIT_ERROR,
  .all_with_names = "no arguments are needed with --all",
  .no_names = "you must provide at least one name or id",
};

/* The options of @selection, as parse_verb_options's extra entries:
 * --all (with the short name @all_short, or none when 0) and, with
 * @ignore, --ignore/-i. */
static void
selection_entries (Selection *selection, char all_short, const char *all_help, gboolean ignore,
                   GOptionEntry entries[3])
{
  const GOptionEntry all = { "all", all_short, 0, G_OPTION_ARG_NONE, &selection->all, all_help };
  const GOptionEntry ignoring = {
    .long_name = "ignore",
    .short_name = 'i',
    .arg = G_OPTION_ARG_NONE,
    .arg_data = &selection->ignore,
    .description = "A container that does not exist is no error",
  };
  const GOptionEntry end = { NULL };

  entries[0] = all;
  entries[1] = ignore ? ignoring : end;
  entries[2] = end;
}

/* ---- start, stop, restart, kill */

static Outcome
start_container (Client *client, const Target *target, gconstpointer data, GError **error)
{
  /* like podman, starting a running container is no error and prints
   * nothing (the daemon's Start leaves it alone) */
  if (target_state_is (client, target, "running"))
    return ACTED_QUIETLY;
  return call_container (client, target, "Start", NULL, G_MAXINT, error) ? ACTED : FAILED;
}

int
verb_start (Client *client, const Verb *verb, int argc, char **argv)
{
  Selection selection = podman_selection;
  GOptionEntry selecting[3];

  selection.wanted = state_can_start;
  selection.all_with_names =
      "either start all containers or the container(s) provided in the arguments";
  selection.no_names = "start requires at least one argument";
  /* no -a: podman's start -a is --attach */
  selection_entries (&selection, 0, "Start every container that is not running (prints the IDs)",
                     FALSE, selecting);
  if (!parse_verb_options (verb, NULL, selecting, NULL, FALSE, &argc, &argv))
    return EXIT_ERROR;
  return select_and_act (client, &selection, argc, argv, start_container, NULL);
}

typedef struct
{
  const char *method;
  guint32 timeout;
} StopCall;

static Outcome
stop_container (Client *client, const Target *target, gconstpointer data, GError **error)
{
  const StopCall *call = data;

  if (call_container (client, target, call->method, g_variant_new ("(u)", call->timeout), G_MAXINT,
                      error))
    return ACTED;
  /* like podman, stopping a container that never started does nothing */
  if (g_str_equal (call->method, "Stop") && error_is (*error, ERROR_INVALID_STATE) &&
      target_state_is (client, target, "configured"))
    {
      g_clear_error (error);
      return ACTED;
    }
  return FAILED;
}

/* stop [--ignore] and restart: [-t SECONDS] [--all] */
int
verb_stop (Client *client, const Verb *verb, int argc, char **argv)
{
  gboolean restart = g_str_equal (verb->call->method, "Restart");
  Selection selection = podman_selection;
  GOptionEntry selecting[3];
  g_autofree char *seconds = NULL;
  const GOptionEntry entries[] = {
    { "time", 't', 0, G_OPTION_ARG_STRING, &seconds,
      "Seconds to wait before killing (default: the container's stop timeout)", "SECONDS" },
    { NULL }
  };
  StopCall call = { verb->call->method, STOP_TIMEOUT_DEFAULT };

  /* podman's restart has no --ignore */
  selection_entries (&selection, 'a',
                     restart ? "Restart every container (prints the IDs)"
                             : "Stop every container (prints the IDs)",
                     !restart, selecting);
  if (!parse_verb_options (verb, entries, selecting, NULL, FALSE, &argc, &argv) ||
      (seconds != NULL && !parse_uint32_option ("--time", seconds, &call.timeout)))
    return EXIT_ERROR;
  return select_and_act (client, &selection, argc, argv, stop_container, &call);
}

static Outcome
kill_container (Client *client, const Target *target, gconstpointer data, GError **error)
{
  return call_container (client, target, "Kill", g_variant_new ("(s)", (const char *) data), -1,
                         error)
             ? ACTED
             : FAILED;
}

int
verb_kill (Client *client, const Verb *verb, int argc, char **argv)
{
  Selection selection = podman_selection;
  GOptionEntry selecting[3];
  g_autofree char *signal_name = NULL;
  const GOptionEntry entries[] = { { "signal", 's', 0, G_OPTION_ARG_STRING, &signal_name,
                                     "Signal to send: a name or number (default SIGKILL)",
                                     "SIGNAL" },
                                   { NULL } };

  selection.wanted = state_is_up;
  selection_entries (&selection, 'a', "Signal every running container (prints the IDs)", TRUE,
                     selecting);
  if (!parse_verb_options (verb, entries, selecting, NULL, FALSE, &argc, &argv))
    return EXIT_ERROR;
  return select_and_act (client, &selection, argc, argv, kill_container,
                         signal_name != NULL ? signal_name : "SIGKILL");
}

/* ---- rm */

typedef struct
{
  gboolean force;
  gboolean volumes;
  /* -t: Stop with it before the removal; STOP_TIMEOUT_DEFAULT: not given */
  guint32 stop_timeout;
} RemoveOptions;

static Outcome
remove_container (Client *client, const Target *target, gconstpointer data, GError **error)
{
  const RemoveOptions *options = data;

  /* Remove with force kills at once, which is -t 0; a longer time is a Stop
   * first. One that is not running has nothing to stop. */
  if (options->force && options->stop_timeout != STOP_TIMEOUT_DEFAULT &&
      options->stop_timeout > 0 &&
      !call_container (client, target, "Stop", g_variant_new ("(u)", options->stop_timeout),
                       G_MAXINT, error))
    {
      if (!error_is (*error, ERROR_INVALID_STATE))
        return FAILED;
      g_clear_error (error);
    }
  return call_container (client, target, "Remove",
                         g_variant_new ("(bb)", options->force, options->volumes), G_MAXINT, error)
             ? ACTED
             : FAILED;
}

int
verb_rm (Client *client, const Verb *verb, int argc, char **argv)
{
  Selection selection = podman_selection;
  GOptionEntry selecting[3];
  RemoveOptions options = { FALSE, FALSE, STOP_TIMEOUT_DEFAULT };
  g_autofree char *seconds = NULL;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &options.force,
      "Stop a running or paused container first (a missing one is no error)", NULL },
    { "volumes", 'v', 0, G_OPTION_ARG_NONE, &options.volumes,
      "Remove the container's anonymous volumes", NULL },
    { "time", 't', 0, G_OPTION_ARG_STRING, &seconds,
      "With --force, seconds to wait for a stop before killing (default: kill at once)",
      "SECONDS" },
    { NULL }
  };

  selection.missing_status = EXIT_MISSING;
  selection.invalid_state_status = EXIT_IN_USE;
  selection_entries (&selection, 'a', "Remove every container (prints the IDs)", TRUE, selecting);
  if (!parse_verb_options (verb, entries, selecting, NULL, FALSE, &argc, &argv) ||
      (seconds != NULL && !parse_uint32_option ("--time", seconds, &options.stop_timeout)))
    return EXIT_ERROR;
  if (seconds != NULL && !options.force)
    return usage_error ("--force option must be specified to use the --time option");
  /* like podman rm -f, which never fails on a missing name */
  selection.ignore = selection.ignore || options.force;
  return select_and_act (client, &selection, argc, argv, remove_container, &options);
}

/* ---- rmi */

static int
image_error_status (Client *client, GError *error, const char *reference)
{
  not_found_as_podman (error, OBJECT_IMAGE, reference);
  print_error (client, error);
  if (error_is_not_found (error))
    return EXIT_MISSING;
  if (error_is (error, ERROR_IN_USE))
    return EXIT_IN_USE;
  return EXIT_ERROR;
}

/* Removes the image at @path (whose @names go with it), as podman prints it. */
static gboolean
remove_image_at (Client *client, const char *path, const char *const *names, gboolean force,
                 GError **error)
{
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      client->bus, BUS_NAME, path, IMAGE_IFACE, "Remove", g_variant_new ("(b)", force), NULL,
      CALL_CHANGING, G_MAXINT, NULL, error);

  if (reply == NULL)
    return FALSE;
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    g_print ("Untagged: %s\n", names[i]);
  g_print ("Deleted: %s\n", id_from_path (path));
  return TRUE;
}

/* "name" as the daemon stores it: "name:latest" (the tag follows the last
 * slash; a colon before it belongs to a registry's port). */
static char *
normalize_image_name (const char *name)
{
  const char *slash = strrchr (name, '/');

  if (strchr (slash != NULL ? slash : name, ':') != NULL)
    return g_strdup (name);
  return g_strconcat (name, ":latest", NULL);
}

/* Like podman rmi: an image named by one of several names only loses that
 * name; named by its ID (or its only name) it is removed. */
static gboolean
remove_image (Client *client, const char *reference, gboolean force, GError **error)
{
  g_autoptr (CtrImage) image = get_image (client, reference, error);
  g_autofree char *name = normalize_image_name (reference);
  g_autoptr (GVariant) reply = NULL;
  const char *const *names;

  if (image == NULL)
    return FALSE;
  names = ctr_image_get_names (image);
  if (names != NULL && g_strv_length ((char **) names) > 1 && g_strv_contains (names, name))
    {
      reply = call_changing (image, "Untag", g_variant_new ("(s)", name), -1, NULL, error);
      if (reply != NULL)
        g_print ("Untagged: %s\n", name);
      return reply != NULL;
    }
  return remove_image_at (client, g_dbus_proxy_get_object_path (G_DBUS_PROXY (image)), names, force,
                          error);
}

static int
remove_all_images (Client *client, gboolean force)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) images = list_objects (client, IMAGE_IFACE, -1, &error);
  int status = 0;

  if (images == NULL)
    return print_error (client, error);
  for (guint i = 0; i < images->len; i++)
    {
      const char *id = prop_str (images->pdata[i], "Id");
      g_autofree char *path = g_strdup_printf ("%s/images/%s", MANAGER_PATH, id);
      g_autoptr (GVariant) names =
          g_variant_lookup_value (images->pdata[i], "Names", G_VARIANT_TYPE_STRING_ARRAY);
      g_autofree const char **strv = names != NULL ? g_variant_get_strv (names, NULL) : NULL;

      if (!remove_image_at (client, path, strv, force, &error))
        {
          /* removed since it was listed: nothing left to do */
          int error_status =
              error_is_not_found (error) ? 0 : image_error_status (client, error, id);

          status = MAX (status, error_status);
          g_clear_error (&error);
        }
    }
  return status;
}

int
verb_rmi (Client *client, const Verb *verb, int argc, char **argv)
{
  gboolean force = FALSE, all = FALSE, ignore = FALSE;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
      "Also remove the containers using the image (a missing image is no error)", NULL },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Remove every image", NULL },
    { "ignore", 'i', 0, G_OPTION_ARG_NONE, &ignore, "An image that does not exist is no error",
      NULL },
    { NULL }
  };
  int status = 0;

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv))
    return EXIT_ERROR;
  if (all && argc > 1)
    return usage_error ("when using the --all switch, you may not pass any images names or IDs");
  if (all)
    return remove_all_images (client, force);
  if (argc < 2)
    return usage_error ("image name or ID must be specified");
  /* like podman, a failure is reported and the other images are still
   * handled; rmi -f never fails on a missing image */
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      int error_status;

      if (remove_image (client, argv[i], force, &error))
        continue;
      if (error_is_not_found (error) && (ignore || force))
        continue;
      error_status = image_error_status (client, error, argv[i]);
      status = MAX (status, error_status);
    }
  return status;
}
