/* ctl-transfer.c: the verbs of containersctl that move things in and out
 * (pull, push, cp), resource limits and figures (update, stats, the create
 * options), image prune and the event history of events --since/--until. */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>

#include "ctl.h"

/* ---- option values */

/* Like podman's --memory: a byte count with an optional b, k, m or g. */
gboolean
parse_memory_option (const char *option, const char *text, guint64 *bytes)
{
  static const char suffixes[] = "bkmg";
  g_autofree char *number = g_strdup (text);
  gsize len = strlen (number);
  const char *suffix;
  guint64 value;
  guint shift = 0;

  if (len > 0 && (suffix = strchr (suffixes, g_ascii_tolower (number[len - 1]))) != NULL &&
      *suffix != '\0')
    {
      shift = 10 * (suffix - suffixes);
      number[len - 1] = '\0';
    }
  if (!g_ascii_string_to_unsigned (number, 10, 0, G_MAXUINT64 >> shift, &value, NULL))
    {
      usage_error ("invalid %s \"%s\" (use a number of bytes with an optional k, m or g)", option,
                   text);
      return FALSE;
    }
  *bytes = value << shift;
  return TRUE;
}

gboolean
parse_cpus_option (const char *option, const char *text, double *cpus)
{
  char *end = NULL;
  double value = g_ascii_strtod (text, &end);

  if (end == text || *end != '\0' || !isfinite (value) || value < 0 || value > 1024)
    {
      usage_error ("invalid %s \"%s\" (use a number of CPUs such as 0.5)", option, text);
      return FALSE;
    }
  *cpus = value;
  return TRUE;
}

/* Like podman: -1 (and 0) is no limit. */
gboolean
parse_pids_option (const char *option, const char *text, gint64 *pids)
{
  gint64 value;

  if (!g_ascii_string_to_signed (text, 10, -1, G_MAXINT64, &value, NULL))
    {
      usage_error ("invalid %s \"%s\" (use a number of processes, -1 for no limit)", option, text);
      return FALSE;
    }
  *pids = MAX (value, 0);
  return TRUE;
}

static gboolean tls_verify = TRUE;

static gboolean
parse_tls_verify (const char *option_name, const char *value, gpointer data, GError **error)
{
  return parse_bool_value (option_name, value, &tls_verify, error);
}

/* The options of PullImage and Push: --creds U:P and --tls-verify. */
static gboolean
build_registry_options (const char *creds, GVariantBuilder *builder)
{
  const char *colon = creds != NULL ? strchr (creds, ':') : NULL;

  if (creds != NULL && (colon == NULL || colon == creds))
    {
      usage_error ("invalid --creds (use USERNAME:PASSWORD)");
      return FALSE;
    }
  if (creds != NULL)
    {
      g_autofree char *user = g_strndup (creds, colon - creds);

      g_variant_builder_add (builder, "{sv}", "Username", g_variant_new_string (user));
      g_variant_builder_add (builder, "{sv}", "Password", g_variant_new_string (colon + 1));
    }
  if (!tls_verify)
    g_variant_builder_add (builder, "{sv}", "TlsVerify", g_variant_new_boolean (FALSE));
  return TRUE;
}

/* The options and arguments of pull and push (REFERENCE, and for push
 * IMAGE [DESTINATION]) into @options: --creds U:P and --tls-verify. */
static gboolean
parse_registry_verb (const Verb *verb, const char *description, int max_args, int *argc,
                     char ***argv, GVariantBuilder *options)
{
  g_autofree char *creds = NULL;
  const GOptionEntry entries[] = {
    { "creds", 0, 0, G_OPTION_ARG_STRING, &creds, "Registry credentials", "USERNAME:PASSWORD" },
    { "tls-verify", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, parse_tls_verify,
      "Require HTTPS and verify certificates (default true)", "true|false" },
    { NULL }
  };

  tls_verify = TRUE;
  return parse_verb_options (verb, entries, NULL, description, FALSE, argc, argv) &&
         check_arg_count (verb, *argc, *argv, 1, max_args) &&
         build_registry_options (creds, options);
}

/* ---- pull, push, image prune */

int
verb_pull (Client *client, const Verb *verb, int argc, char **argv)
{
  g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  CtrManager *manager;
  const char *path;

  if (!parse_registry_verb (verb, NULL, 1, &argc, &argv, &options))
    return EXIT_ERROR;
  manager = client_get_manager (client, FALSE, &error);
  if (manager != NULL)
    reply = call_changing (manager, "PullImage", g_variant_new ("(sa{sv})", argv[1], &options),
                           G_MAXINT, NULL, &error);
  if (reply == NULL)
    return print_error (client, error);
  g_variant_get (reply, "(&o)", &path);
  g_print ("%s\n", id_from_path (path));
  return 0;
}

int
verb_push (Client *client, const Verb *verb, int argc, char **argv)
{
  g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (CtrImage) image = NULL;

  if (!parse_registry_verb (verb,
                            "Like podman, without DESTINATION the image goes where its name says.",
                            2, &argc, &argv, &options))
    return EXIT_ERROR;
  image = get_image (client, argv[1], &error);
  if (image != NULL)
    reply = call_changing (image, "Push",
                           g_variant_new ("(sa{sv})", argc > 2 ? argv[2] : argv[1], &options),
                           G_MAXINT, NULL, &error);
  if (reply == NULL)
    return print_error (client, error);
  return 0;
}

int
verb_image_prune (Client *client, const Verb *verb, int argc, char **argv)
{
  gboolean all = FALSE, force = FALSE;
  const GOptionEntry entries[] = { { "all", 'a', 0, G_OPTION_ARG_NONE, &all,
                                     "Also images with names that no container uses", NULL },
                                   { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
                                     "Do not ask for confirmation", NULL },
                                   { NULL } };
  g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 0, 0))
    return EXIT_ERROR;
  if (!force && !confirm (all ? "WARNING! This command removes all images without at least one "
                                "container associated with them.\nAre you sure you want to "
                                "continue?"
                              : "WARNING! This command removes all dangling images.\n"
                                "Are you sure you want to continue?"))
    return 0;
  g_variant_builder_add (&options, "{sv}", "All", g_variant_new_boolean (all));
  return prune_and_print (client, "PruneImages", g_variant_new ("(a{sv})", &options));
}

/* ---- cp */

/* "CONTAINER:PATH" splits at the first colon; a host path has none, or a
 * slash before it (./a:b), like podman. */
static gboolean
split_container_path (const char *arg, char **container, char **path)
{
  const char *colon = strchr (arg, ':');
  const char *slash = strchr (arg, '/');

  if (colon == NULL || colon == arg || (slash != NULL && slash < colon))
    return FALSE;
  *container = g_strndup (arg, colon - arg);
  *path = g_strdup (colon + 1);
  return TRUE;
}

/* Runs tar on the host with @argv, our end of its pipe in *our_fd. */
static GSubprocess *
spawn_tar (const char *const *argv, gboolean reads, int *our_fd, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  GSubprocess *tar;
  int fds[2];

  if (!g_unix_open_pipe (fds, FD_CLOEXEC, error))
    return NULL;
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  if (reads)
    g_subprocess_launcher_take_stdin_fd (launcher, fds[0]);
  else
    g_subprocess_launcher_take_stdout_fd (launcher, fds[1]);
  *our_fd = reads ? fds[1] : fds[0];
  tar = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (tar == NULL)
    close (*our_fd);
  return tar;
}

/* Calls CopyFrom or CopyTo of @container with @fd (taken) and, when @tar
 * is set, waits for it. */
static gboolean
copy_call (CtrContainer *container, const char *path, gboolean to_container, int fd,
           GSubprocess *tar, GError **error)
{
  g_autoptr (GUnixFDList) fd_list = fd_list_take (fd, error);
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) tar_error = NULL;

  if (fd_list != NULL)
    reply = call_changing (container, to_container ? "CopyTo" : "CopyFrom",
                           to_container ? g_variant_new ("(sha{sv})", path, 0, NULL)
                                        : g_variant_new ("(sh)", path, 0),
                           G_MAXINT, fd_list, error);
  /* our last copy of the pipe goes, so tar sees its end */
  g_clear_object (&fd_list);
  if (tar == NULL)
    return reply != NULL;
  if (reply == NULL)
    g_subprocess_force_exit (tar);
  if (!g_subprocess_wait_check (tar, NULL, &tar_error) && reply != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "tar on the host failed: %s",
                   tar_error->message);
      return FALSE;
    }
  return reply != NULL;
}

/* Removes what a failed copy left in @dir, a directory of our own. */
static void
remove_staging_dir (const char *dir)
{
  const char *argv[] = { "rm", "-rf", "--one-file-system", "--", dir, NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                NULL, NULL, NULL, NULL, NULL);
}

/* Like podman cp CTR:PATH DEST: into DEST when it is a directory; when DEST
 * does not exist (its directory does), PATH is copied under that name: tar
 * extracts into a staging directory beside it, and its one entry moves. */
static int
copy_from_container (Client *client, const char *name, const char *path, const char *dest)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrContainer) container = NULL;
  g_autoptr (GSubprocess) tar = NULL;
  g_autofree char *parent = NULL, *staging = NULL, *base = NULL, *entry = NULL;
  gboolean to_stdout = g_str_equal (dest, "-");
  int fd = -1;
  struct stat st;

  if (!to_stdout && stat (dest, &st) != 0)
    {
      int saved_errno = errno;

      parent = g_path_get_dirname (dest);
      if (saved_errno != ENOENT || stat (parent, &st) != 0 || !S_ISDIR (st.st_mode))
        {
          g_printerr ("Error: cannot copy to \"%s\": %s\n", dest,
                      saved_errno != ENOENT ? g_strerror (saved_errno)
                                            : "its directory does not exist");
          return EXIT_ERROR;
        }
    }
  else if (!to_stdout && !S_ISDIR (st.st_mode))
    {
      g_printerr ("Error: \"%s\" exists and is not a directory\n", dest);
      return EXIT_ERROR;
    }
  container = get_container (client, name, FALSE, &error);
  if (container == NULL)
    return print_error (client, error);
  if (parent != NULL)
    {
      staging = g_build_filename (parent, ".containersctl-cp-XXXXXX", NULL);
      if (g_mkdtemp (staging) == NULL)
        {
          int saved_errno = errno;
          g_printerr ("Error: cannot make a directory in \"%s\": %s\n", parent,
                      g_strerror (saved_errno));
          return EXIT_ERROR;
        }
    }
  if (to_stdout)
    fd = open_archive ("-", TRUE, &error);
  else
    tar = spawn_tar ((const char *const[]){ "tar", "-x", "-f", "-", "-C",
                                            staging != NULL ? staging : dest, NULL },
                     TRUE, &fd, &error);
  if (fd < 0 || !copy_call (container, path, FALSE, fd, tar, &error))
    {
      if (staging != NULL)
        remove_staging_dir (staging);
      return print_error (client, error);
    }
  if (staging == NULL)
    return 0;
  /* the container's root comes as the whole tree: the staging directory
   * itself is the copy */
  base = g_path_get_basename (path);
  entry = g_str_equal (base, G_DIR_SEPARATOR_S) ? g_strdup (staging)
                                                : g_build_filename (staging, base, NULL);
  if (rename (entry, dest) != 0)
    {
      int saved_errno = errno;
      g_printerr ("Error: cannot move the copy to \"%s\": %s\n", dest, g_strerror (saved_errno));
      remove_staging_dir (staging);
      return EXIT_ERROR;
    }
  if (!g_str_equal (entry, staging))
    rmdir (staging);
  return 0;
}

/* A tar --transform expression naming the member @from, and what is below
 * it, @to instead (symlink targets are left alone). */
static char *
rename_transform (const char *from, const char *to)
{
  GString *expr = g_string_new ("--transform=s,^");

  for (const char *p = from; *p != '\0'; p++)
    {
      if (strchr ("\\.[]*^$,", *p) != NULL)
        g_string_append_c (expr, '\\');
      g_string_append_c (expr, *p);
    }
  g_string_append (expr, "\\(/\\|$\\),");
  for (const char *p = to; *p != '\0'; p++)
    {
      if (strchr ("\\&,", *p) != NULL)
        g_string_append_c (expr, '\\');
      g_string_append_c (expr, *p);
    }
  g_string_append (expr, "\\1,S");
  return g_string_free (expr, FALSE);
}

/* tar of the host file or directory @source, named @rename_to in the
 * archive when that is set. */
static GSubprocess *
spawn_source_tar (const char *source, const char *rename_to, int *fd, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (source);
  g_autofree char *base = g_path_get_basename (source);
  g_autofree char *transform = rename_to != NULL ? rename_transform (base, rename_to) : NULL;
  const char *argv[] = { "tar", "-c", "-f", "-", "-C", dir, "--", base, NULL, NULL };

  if (transform != NULL)
    {
      /* the option goes before "--" */
      argv[6] = transform;
      argv[7] = "--";
      argv[8] = base;
    }
  return spawn_tar (argv, FALSE, fd, error);
}

/* Like podman cp SRC CTR:PATH: into PATH when it is a directory of the
 * container; when it does not exist (its directory does), SRC is copied
 * under that name. */
static int
copy_to_container (Client *client, const char *source, const char *name, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrContainer) container = NULL;
  g_autoptr (GSubprocess) tar = NULL;
  g_autofree char *parent = NULL, *new_name = NULL;
  gboolean from_stdin = g_str_equal (source, "-");
  int fd = -1;

  if (!from_stdin && access (source, F_OK) != 0)
    {
      int saved_errno = errno;
      g_printerr ("Error: cannot copy \"%s\": %s\n", source, g_strerror (saved_errno));
      return EXIT_ERROR;
    }
  container = get_container (client, name, FALSE, &error);
  if (container == NULL)
    return print_error (client, error);
  if (from_stdin)
    fd = open_archive ("-", FALSE, &error);
  else
    tar = spawn_source_tar (source, NULL, &fd, &error);
  if (fd >= 0 && copy_call (container, path, TRUE, fd, tar, &error))
    return 0;
  /* a tar on stdin is read once, and a trailing slash says PATH is a directory */
  if (fd < 0 || from_stdin || g_str_has_suffix (path, "/") || !error_is_not_found (error))
    return print_error (client, error);
  g_clear_error (&error);
  g_clear_object (&tar);
  parent = g_path_get_dirname (path);
  new_name = g_path_get_basename (path);
  tar = spawn_source_tar (source, new_name, &fd, &error);
  if (tar == NULL || !copy_call (container, parent, TRUE, fd, tar, &error))
    return print_error (client, error);
  return 0;
}

int
verb_cp (Client *client, const Verb *verb, int argc, char **argv)
{
  g_autofree char *src_container = NULL, *src_path = NULL;
  g_autofree char *dst_container = NULL, *dst_path = NULL;
  gboolean from, to;

  if (!parse_verb_options (verb, NULL, NULL,
                           "One side is CONTAINER:PATH, the other a host path or - for a tar on "
                           "stdin or stdout.\nA destination directory gets the copy inside it; "
                           "a destination that does not exist\n(in a directory that does) is "
                           "the copy's new name, like podman cp.",
                           FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 2, 2))
    return EXIT_ERROR;
  from = split_container_path (argv[1], &src_container, &src_path);
  to = split_container_path (argv[2], &dst_container, &dst_path);
  if (from == to)
    return usage_error ("exactly one of SRC and DST must be CONTAINER:PATH");
  if (from)
    return copy_from_container (client, src_container, src_path, argv[2]);
  return copy_to_container (client, argv[1], dst_container, dst_path);
}

/* ---- stats, update */

/* Like podman's "1.5s" and "10.544ms". */
static char *
format_cpu_time (guint64 ns)
{
  if (ns >= G_GUINT64_CONSTANT (1000000000))
    return g_strdup_printf ("%.3fs", ns / 1e9);
  return g_strdup_printf ("%.3fms", ns / 1e6);
}

/* Without a limit of its own, a container may use all the host's memory,
 * which podman shows as the limit. */
static guint64
host_memory (void)
{
  long pages = sysconf (_SC_PHYS_PAGES), page_size = sysconf (_SC_PAGESIZE);

  return pages > 0 && page_size > 0 ? (guint64) pages * page_size : 0;
}

/* podman stats --no-stream's columns, less NET IO (the daemon has no
 * figure for it); with one sample, CPU % is the average since the start, as
 * podman's first sample is. */
static void
add_stats_row (GPtrArray *table, CtrContainer *container, GVariant *stats)
{
  guint64 cpu_ns = 0, memory = 0, limit = 0, pids = 0, read = 0, write = 0;
  guint64 started = ctr_container_get_started_at (container), now = g_get_real_time ();
  g_autofree char *id = g_strndup (ctr_container_get_id (container), SHORT_ID_LEN);
  g_autofree char *cpu_time = NULL, *cpu = NULL, *usage = NULL, *percent = NULL;
  g_autofree char *block = NULL, *pids_text = NULL, *memory_text = NULL, *limit_text = NULL;
  g_autofree char *read_text = NULL, *write_text = NULL;

  g_variant_lookup (stats, "CpuTimeNs", "t", &cpu_ns);
  g_variant_lookup (stats, "MemoryBytes", "t", &memory);
  g_variant_lookup (stats, "MemoryLimit", "t", &limit);
  g_variant_lookup (stats, "Pids", "t", &pids);
  g_variant_lookup (stats, "BlockReadBytes", "t", &read);
  g_variant_lookup (stats, "BlockWriteBytes", "t", &write);
  if (limit == 0)
    limit = host_memory ();
  cpu_time = format_cpu_time (cpu_ns);
  cpu = started != 0 && now > started
            ? g_strdup_printf ("%.2f%%", 100.0 * (cpu_ns / 1e3) / (double) (now - started))
            : g_strdup ("--");
  memory_text = format_size (memory);
  limit_text = limit != 0 ? format_size (limit) : g_strdup ("--");
  usage = g_strdup_printf ("%s / %s", memory_text, limit_text);
  percent = limit != 0 ? g_strdup_printf ("%.2f%%", 100.0 * memory / limit) : g_strdup ("--");
  read_text = format_size (read);
  write_text = format_size (write);
  block = g_strdup_printf ("%s / %s", read_text, write_text);
  pids_text = g_strdup_printf ("%" G_GUINT64_FORMAT, pids);
  table_add (table, id, ctr_container_get_name (container), cpu, usage, percent, block, pids_text,
             cpu_time, cpu, NULL);
}

int
verb_stats (Client *client, const Verb *verb, int argc, char **argv)
{
  gboolean no_stream = FALSE;
  const GOptionEntry entries[] = { { "no-stream", 0, 0, G_OPTION_ARG_NONE, &no_stream,
                                     "Print the figures once (required)", NULL },
                                   { NULL } };
  g_autoptr (GPtrArray) table = table_new ();
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv))
    return EXIT_ERROR;
  if (!no_stream)
    return usage_error ("give --no-stream: the figures are printed once, not streamed");
  for (int i = 1; i < argc; i++)
    g_ptr_array_add (names, g_strdup (argv[i]));
  if (argc < 2)
    {
      g_autoptr (GPtrArray) containers = list_objects (client, CONTAINER_IFACE, -1, &error);

      if (containers == NULL)
        return print_error (client, error);
      for (guint i = 0; i < containers->len; i++)
        if (g_str_equal (prop_str (containers->pdata[i], "State"), "running"))
          g_ptr_array_add (names, g_strdup (prop_str (containers->pdata[i], "Id")));
    }
  table_add (table, "ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "BLOCK IO", "PIDS",
             "CPU TIME", "AVG CPU %", NULL);
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (CtrContainer) container = get_container (client, names->pdata[i], TRUE, &error);
      g_autoptr (GVariant) stats = NULL;

      if (container != NULL && ctr_container_call_get_stats_sync (container, &stats, NULL, &error))
        add_stats_row (table, container, stats);
      else
        status = print_error (client, error);
      g_clear_error (&error);
    }
  table_print (table);
  return status;
}

int
verb_update (Client *client, const Verb *verb, int argc, char **argv)
{
  g_autofree char *memory = NULL, *cpus = NULL, *pids = NULL, *restart = NULL;
  const GOptionEntry entries[] = {
    { "memory", 'm', 0, G_OPTION_ARG_STRING, &memory, "Memory limit (0: none)", "BYTES[k|m|g]" },
    { "cpus", 0, 0, G_OPTION_ARG_STRING, &cpus, "CPU limit (0: none)", "CPUS" },
    { "pids-limit", 0, 0, G_OPTION_ARG_STRING, &pids, "Process limit (-1: none)", "N" },
    { "restart", 0, 0, G_OPTION_ARG_STRING, &restart, "Restart policy from the next exit on",
      "no|on-failure[:N]|always|unless-stopped" },
    { NULL }
  };
  g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GError) error = NULL;
  g_autoptr (CtrContainer) container = NULL;
  g_autoptr (GVariant) reply = NULL;
  guint64 memory_bytes = 0;
  double cpu_quota = 0;
  gint64 pids_limit = 0;

  if (!parse_verb_options (verb, entries, NULL, NULL, FALSE, &argc, &argv) ||
      !check_arg_count (verb, argc, argv, 1, 1))
    return EXIT_ERROR;
  if (memory == NULL && cpus == NULL && pids == NULL && restart == NULL)
    return usage_error ("nothing to update: give --memory, --cpus, --pids-limit or --restart");
  if (memory != NULL && !parse_memory_option ("--memory", memory, &memory_bytes))
    return EXIT_ERROR;
  if (cpus != NULL && !parse_cpus_option ("--cpus", cpus, &cpu_quota))
    return EXIT_ERROR;
  if (pids != NULL && !parse_pids_option ("--pids-limit", pids, &pids_limit))
    return EXIT_ERROR;
  if (memory != NULL)
    g_variant_builder_add (&options, "{sv}", "MemoryLimit", g_variant_new_uint64 (memory_bytes));
  if (cpus != NULL)
    g_variant_builder_add (&options, "{sv}", "CpuQuota", g_variant_new_double (cpu_quota));
  if (pids != NULL)
    g_variant_builder_add (&options, "{sv}", "PidsLimit", g_variant_new_int64 (pids_limit));
  /* the daemon knows the policies: it checks them */
  if (restart != NULL)
    g_variant_builder_add (&options, "{sv}", "RestartPolicy", g_variant_new_string (restart));
  container = get_container (client, argv[1], FALSE, &error);
  if (container != NULL)
    reply =
        call_changing (container, "Update", g_variant_new ("(a{sv})", &options), -1, NULL, &error);
  if (reply == NULL)
    return print_error (client, error);
  g_print ("%s\n", id_from_path (g_dbus_proxy_get_object_path (G_DBUS_PROXY (container))));
  return 0;
}

/* ---- events --since/--until */

/* The name each object of @interface_name has now, by ID, into @names. */
static gboolean
add_object_names (Client *client, GHashTable *names, const char *interface_name, GError **error)
{
  g_autoptr (GPtrArray) objects = list_objects (client, interface_name, -1, error);

  if (objects == NULL)
    return FALSE;
  for (guint i = 0; i < objects->len; i++)
    {
      GVariant *props = objects->pdata[i];
      g_autofree const char **image_names = NULL;
      const char *name = prop_str (props, "Name");

      /* images have names (name:tag), not a name */
      if (g_variant_lookup (props, "Names", "^a&s", &image_names) && image_names[0] != NULL)
        name = image_names[0];
      if (*name != '\0')
        g_hash_table_insert (names, g_strdup (prop_str (props, "Id")), g_strdup (name));
    }
  return TRUE;
}

/* Prints the daemon's event history between @since_usec and @until_usec (0:
 * now) as "TIME KIND EVENT NAME (ID)", the shape of the live events; sets
 * *@last_usec to the time of the last one printed (@since_usec if none). */
gboolean
events_print_history (Client *client, guint64 since_usec, guint64 until_usec, guint64 *last_usec,
                      GError **error)
{
  static const char *const interfaces[] = { CONTAINER_IFACE, IMAGE_IFACE, NETWORK_IFACE,
                                            VOLUME_IFACE };
  g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariantIter) iter = NULL;
  const char *kind, *id, *event;
  guint64 time_usec;
  CtrManager *manager;

  *last_usec = since_usec;
  manager = client_get_manager (client, FALSE, error);
  if (manager == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (interfaces); i++)
    if (!add_object_names (client, names, interfaces[i], error))
      return FALSE;
  reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (manager), "GetEvents",
                                  g_variant_new ("(tt)", since_usec, until_usec),
                                  G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(a(ssst))", &iter);
  while (g_variant_iter_next (iter, "(&s&s&st)", &kind, &id, &event, &time_usec))
    {
      g_autofree char *time_text = format_event_time (time_usec);
      const char *name = g_hash_table_lookup (names, id);

      g_print ("%s %s %s %s (%s)\n", time_text, kind, event, name != NULL ? name : "<unknown>", id);
      *last_usec = MAX (*last_usec, time_usec);
    }
  fflush (stdout);
  return TRUE;
}
