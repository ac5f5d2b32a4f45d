/* ctrd-error.h: the one error domain of containersd.
 *
 * Each code maps to org.example.Containers1.Error.<Name> on the bus; the
 * table lives in ctrd-error.c and is registered once by ctrd_error_quark(). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CTRD_ERROR (ctrd_error_quark ())

typedef enum
{
  CTRD_ERROR_FAILED,
  CTRD_ERROR_INVALID_ARGUMENT,
  CTRD_ERROR_NOT_FOUND,
  CTRD_ERROR_NAME_IN_USE,
  CTRD_ERROR_INVALID_STATE,
  CTRD_ERROR_IN_USE,
  CTRD_ERROR_NOT_AUTHORIZED,
  CTRD_ERROR_CANCELLED,
  CTRD_ERROR_RUNTIME_ERROR,
  CTRD_ERROR_STORAGE_ERROR,
  CTRD_ERROR_DEPENDENCY_FAILED,
  CTRD_ERROR_TIMEOUT,
  CTRD_ERROR_LIMIT_EXCEEDED,
  CTRD_ERROR_N_ERRORS /*< skip >*/
} CtrdError;

GQuark ctrd_error_quark (void);

/* Turns any GError into one of CTRD_ERROR (in place), keeping the message, so
 * that a D-Bus reply always carries an org.example.Containers1.Error.* name.
 * G_IO_ERROR_CANCELLED becomes CANCELLED; other foreign errors become
 * @fallback. */
void ctrd_error_normalize (GError **error, CtrdError fallback);

G_END_DECLS
