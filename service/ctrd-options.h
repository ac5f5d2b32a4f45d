/* ctrd-options.h: the checks of the D-Bus-shaped arguments every bus object
 * shares: an a{sv} options argument and a file descriptor (an h argument
 * with the message's fd list). They live beside the bus objects, not in
 * core. */
#pragma once

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include "ctrd-health.h"

G_BEGIN_DECLS

#define CTRD_MAX_OPTIONS_BYTES (64 * 1024)

typedef struct
{
  const char *key;
  const char *type; /* a GVariant type string */
} CtrdOptionSpec;

/* Checks every key of an a{sv} against @specs: an unknown key or a value of
 * another type is INVALID_ARGUMENT naming the key (g_variant_lookup would
 * silently skip a wrong type); more than CTRD_MAX_OPTIONS_BYTES is
 * LIMIT_EXCEEDED. @what names the call in messages. */
gboolean ctrd_validate_options (GVariant *options, const CtrdOptionSpec *specs, guint n_specs,
                                const char *what, GError **error);

/* What an fd argument must be; combine with |. */
typedef enum
{
  CTRD_FD_READABLE = 1 << 0,      /* open for reading (O_RDONLY or O_RDWR, not O_PATH) */
  CTRD_FD_WRITABLE = 1 << 1,      /* open for writing (O_WRONLY or O_RDWR, not O_PATH) */
  CTRD_FD_NOT_DIRECTORY = 1 << 2, /* anything but a directory */
  CTRD_FD_STREAM = 1 << 3,        /* a regular file, a pipe (FIFO) or a socket */
  CTRD_FD_OR_DIRECTORY = 1 << 4,  /* with CTRD_FD_STREAM: a directory too */
} CtrdFdRules;

/* Checks @fd against @rules (0: no check): INVALID_ARGUMENT saying what @what
 * must be. Does not block; the fd is left as it is. */
gboolean ctrd_check_fd (int fd, CtrdFdRules rules, const char *what, GError **error);

/* The fd that @handle (an "h" value) names in the message's @fd_list, checked
 * with ctrd_check_fd; the caller owns the returned fd (a duplicate, O_CLOEXEC).
 * INVALID_ARGUMENT when the message carries no fd list or more than @max_fds
 * fds, when @handle is not an index into it, or when the fd breaks @rules;
 * -1 then. @what names the argument in messages ("Export fd"). */
int ctrd_take_fd_argument (GUnixFDList *fd_list, GVariant *handle, guint max_fds, CtrdFdRules rules,
                           const char *what, GError **error);

/* The health check's keys of CreateContainer and Update (API.md). */
#define CTRD_HEALTH_OPTION_SPECS                                                                   \
  { "HealthCmd", "as" }, { "HealthInterval", "u" }, { "HealthTimeout", "u" },                      \
      { "HealthStartPeriod", "u" }, { "HealthRetries", "u" }, { "HealthOnFailure", "s" }

/* Those keys of @options (checked already) into @request, which borrows from
 * @options; *@out_cmd is the command's array, to g_free after. */
void ctrd_lookup_health_options (GVariant *options, CtrdHealthRequest *request,
                                 const char ***out_cmd);

G_END_DECLS
