/* ctrd-options.c: the checks of an a{sv} options argument and of an fd
 * argument. */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-options.h"

/* Checks every key of an a{sv} against @specs: an unknown key or a value of
 * another type is an error naming the key (g_variant_lookup would silently
 * skip a wrong type). */
gboolean
ctrd_validate_options (GVariant *options, const CtrdOptionSpec *specs, guint n_specs,
                       const char *what, GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (g_variant_get_size (options) > CTRD_MAX_OPTIONS_BYTES)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                   "%s: the options are larger than %d bytes", what, CTRD_MAX_OPTIONS_BYTES);
      return FALSE;
    }

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      const CtrdOptionSpec *spec = NULL;
      for (guint i = 0; i < n_specs && spec == NULL; i++)
        if (g_str_equal (specs[i].key, key))
          spec = &specs[i];
      if (spec == NULL)
        {
          g_autofree char *printable = g_strescape (key, NULL);
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "%s: unknown option \"%.64s\"", what, printable);
          g_variant_unref (value);
          return FALSE;
        }
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE (spec->type)))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "%s: option %s must be of type '%s', not '%s'", what, key, spec->type,
                       g_variant_get_type_string (value));
          g_variant_unref (value);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
check_fd_kind (const struct stat *st, CtrdFdRules rules, const char *what, GError **error)
{
  gboolean stream = S_ISREG (st->st_mode) || S_ISFIFO (st->st_mode) || S_ISSOCK (st->st_mode);

  if ((rules & CTRD_FD_STREAM) != 0 &&
      !(stream || ((rules & CTRD_FD_OR_DIRECTORY) != 0 && S_ISDIR (st->st_mode))))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s must be a regular file, a pipe or a socket%s", what,
                   (rules & CTRD_FD_OR_DIRECTORY) != 0 ? ", or a directory" : "");
      return FALSE;
    }
  if ((rules & CTRD_FD_NOT_DIRECTORY) != 0 && S_ISDIR (st->st_mode))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s must be a file descriptor that is not a directory", what);
      return FALSE;
    }
  return TRUE;
}

gboolean
ctrd_check_fd (int fd, CtrdFdRules rules, const char *what, GError **error)
{
  struct stat st;
  int flags;
  int mode;

  if (rules == 0)
    return TRUE;
  flags = fcntl (fd, F_GETFL);
  if (flags < 0 || fstat (fd, &st) < 0)
    return ctrd_throw_errno_code (error, CTRD_ERROR_INVALID_ARGUMENT, "%s cannot be examined",
                                  what);
  if (!check_fd_kind (&st, rules, what, error))
    return FALSE;
  /* An O_PATH fd can be neither read nor written. */
  mode = (flags & O_PATH) != 0 ? -1 : (flags & O_ACCMODE);
  if ((rules & CTRD_FD_READABLE) != 0 && mode != O_RDONLY && mode != O_RDWR)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "%s must be open for reading",
                   what);
      return FALSE;
    }
  if ((rules & CTRD_FD_WRITABLE) != 0 && mode != O_WRONLY && mode != O_RDWR)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "%s must be open for writing",
                   what);
      return FALSE;
    }
  return TRUE;
}

int
ctrd_take_fd_argument (GUnixFDList *fd_list, GVariant *handle, guint max_fds, CtrdFdRules rules,
                       const char *what, GError **error)
{
  gint32 index = g_variant_get_handle (handle);
  int length = fd_list != NULL ? g_unix_fd_list_get_length (fd_list) : 0;
  ctrd_autofd int fd = -1;

  if (length == 0 || (guint) length > max_fds)
    {
      if (max_fds == 1)
        g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                     "%s: expected exactly one file descriptor", what);
      else
        g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                     "%s: expected 1 to %u file descriptors", what, max_fds);
      return -1;
    }
  if (index < 0 || index >= length)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s: handle %d is not one of the file descriptors sent", what, index);
      return -1;
    }
  fd = g_unix_fd_list_get (fd_list, index, error);
  if (fd < 0)
    {
      ctrd_error_normalize (error, CTRD_ERROR_INVALID_ARGUMENT);
      return -1;
    }
  if (!ctrd_check_fd (fd, rules, what, error))
    return -1;
  return ctrd_steal_fd (&fd);
}

void
ctrd_lookup_health_options (GVariant *options, CtrdHealthRequest *request, const char ***out_cmd)
{
  *out_cmd = NULL;
  request->has_cmd = g_variant_lookup (options, "HealthCmd", "^a&s", out_cmd);
  request->cmd = *out_cmd;
  request->has_interval = g_variant_lookup (options, "HealthInterval", "u", &request->interval);
  request->has_timeout = g_variant_lookup (options, "HealthTimeout", "u", &request->timeout);
  request->has_start_period =
      g_variant_lookup (options, "HealthStartPeriod", "u", &request->start_period);
  request->has_retries = g_variant_lookup (options, "HealthRetries", "u", &request->retries);
  g_variant_lookup (options, "HealthOnFailure", "&s", &request->on_failure);
}
