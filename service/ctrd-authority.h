/* ctrd-authority.h: the one authorization helper every guarded method uses.
 *
 * Subject: the caller's unique bus name (never a pid). uid 0 callers (uid read
 * from the bus) pass without asking polkit. Asynchronous: the main loop never
 * waits on polkitd. Any error, a timeout, a caller that left the bus, or no
 * polkitd at all is a denial. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CTRD_ACTION_CONTAINER_MANAGE "org.example.containers1.container.manage"
#define CTRD_ACTION_CONTAINER_CREATE "org.example.containers1.container.create"
#define CTRD_ACTION_CONTAINER_EXEC "org.example.containers1.container.exec"
#define CTRD_ACTION_IMAGE_MANAGE "org.example.containers1.image.manage"
#define CTRD_ACTION_NETWORK_MANAGE "org.example.containers1.network.manage"
#define CTRD_ACTION_CONTAINER_HOST_ACCESS "org.example.containers1.container.host-access"

typedef struct _CtrdAuthority CtrdAuthority;

/* Called on the main thread only when the caller is authorized; the invocation
 * is still unanswered and is the callee's to complete. */
typedef void (*CtrdAuthorizedFunc) (GDBusMethodInvocation *invocation, gpointer user_data);

CtrdAuthority *ctrd_authority_new (void);
void ctrd_authority_free (CtrdAuthority *authority);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdAuthority, ctrd_authority_free)

/* Checks @action_id for the sender of @invocation. On denial it answers the
 * invocation with org.example.Containers1.Error.NotAuthorized naming the action
 * and calls @destroy; on success it calls @func then @destroy. @detail_key /
 * @detail_value (may be NULL) are passed to polkit so its message can name the
 * object. User interaction is allowed only when the call carries the
 * ALLOW_INTERACTIVE_AUTHORIZATION flag. */
void ctrd_authority_check (CtrdAuthority *authority, GDBusMethodInvocation *invocation,
                           const char *action_id, const char *detail_key,
                           const char *detail_value, CtrdAuthorizedFunc func, gpointer user_data,
                           GDestroyNotify destroy);

/* The bus client @unique_name left: its pending checks end in denial (the
 * daemon calls this from NameOwnerChanged). */
void ctrd_authority_client_vanished (CtrdAuthority *authority, const char *unique_name);

G_END_DECLS
