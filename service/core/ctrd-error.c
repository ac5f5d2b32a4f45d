/* ctrd-error.c: the CTRD_ERROR domain and its D-Bus names. */
#include "config.h"

#include <gio/gio.h>

#include "ctrd-error.h"

static const GDBusErrorEntry ctrd_error_entries[] = {
  { CTRD_ERROR_FAILED, "org.example.Containers1.Error.Failed" },
  { CTRD_ERROR_INVALID_ARGUMENT, "org.example.Containers1.Error.InvalidArgument" },
  { CTRD_ERROR_NOT_FOUND, "org.example.Containers1.Error.NotFound" },
  { CTRD_ERROR_NAME_IN_USE, "org.example.Containers1.Error.NameInUse" },
  { CTRD_ERROR_INVALID_STATE, "org.example.Containers1.Error.InvalidState" },
  { CTRD_ERROR_IN_USE, "org.example.Containers1.Error.InUse" },
  { CTRD_ERROR_NOT_AUTHORIZED, "org.example.Containers1.Error.NotAuthorized" },
  { CTRD_ERROR_CANCELLED, "org.example.Containers1.Error.Cancelled" },
  { CTRD_ERROR_RUNTIME_ERROR, "org.example.Containers1.Error.RuntimeError" },
  { CTRD_ERROR_STORAGE_ERROR, "org.example.Containers1.Error.StorageError" },
  { CTRD_ERROR_DEPENDENCY_FAILED, "org.example.Containers1.Error.DependencyFailed" },
  { CTRD_ERROR_TIMEOUT, "org.example.Containers1.Error.Timeout" },
  { CTRD_ERROR_LIMIT_EXCEEDED, "org.example.Containers1.Error.LimitExceeded" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (ctrd_error_entries) == CTRD_ERROR_N_ERRORS);

GQuark
ctrd_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("ctrd-error-quark", &quark, ctrd_error_entries,
                                      G_N_ELEMENTS (ctrd_error_entries));
  return (GQuark) quark;
}

void
ctrd_error_normalize (GError **error, CtrdError fallback)
{
  if (error == NULL || *error == NULL || (*error)->domain == CTRD_ERROR)
    return;

  if (g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    (*error)->code = CTRD_ERROR_CANCELLED;
  else
    (*error)->code = fallback;
  (*error)->domain = CTRD_ERROR;
}
