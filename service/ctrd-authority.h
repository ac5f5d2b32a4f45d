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
#define CTRD_ACTION_VOLUME_MANAGE "org.example.containers1.volume.manage"
#define CTRD_ACTION_CONTAINER_HOST_ACCESS "org.example.containers1.container.host-access"
#define CTRD_ACTION_CONTAINER_MANAGE_OTHERS "org.example.containers1.container.manage-others"

typedef struct _CtrdAuthority CtrdAuthority;

/* Called on the main thread only when the caller is authorized and @object
 * is still on the bus; the invocation is still unanswered and is the
 * callee's to complete. @object is the one given to ctrd_authority_check
 * (borrowed); @user_data is the callee's to free. */
typedef void (*CtrdAuthorizedFunc) (gpointer object, GDBusMethodInvocation *invocation,
                                    gpointer user_data);

CtrdAuthority *ctrd_authority_new (void);
void ctrd_authority_free (CtrdAuthority *authority);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdAuthority, ctrd_authority_free)

/* Checks @action_id for the sender of @invocation, a call to @object (a
 * GDBusInterfaceSkeleton: the container, image, job or manager the call was
 * made on; the check holds a reference to it). On denial it answers the
 * invocation with org.example.Containers1.Error.NotAuthorized naming the
 * action. On success it looks again whether @object is still exported on the
 * invocation's connection: one removed while polkit was asked gets
 * org.example.Containers1.Error.NotFound; else @func gets @object and takes
 * @user_data. When @func is not called, @destroy (may be NULL) frees
 * @user_data. @detail_key /
 * @detail_value (may be NULL) are passed to polkit so its message can name
 * the object, and name it in the errors. User interaction is allowed only
 * when the call carries the ALLOW_INTERACTIVE_AUTHORIZATION flag. */
void ctrd_authority_check (CtrdAuthority *authority, gpointer object,
                           GDBusMethodInvocation *invocation, const char *action_id,
                           const char *detail_key, const char *detail_value,
                           CtrdAuthorizedFunc func, gpointer user_data, GDestroyNotify destroy);

/* ctrd_authority_check for an object that belongs to the uid @owner_uid (a
 * container's Owner): a caller with another uid needs
 * CTRD_ACTION_CONTAINER_MANAGE_OTHERS as well, asked after @action_id was
 * granted; a denial of it names that action. uid 0 is always allowed. */
void ctrd_authority_check_owned (CtrdAuthority *authority, gpointer object,
                                 GDBusMethodInvocation *invocation, const char *action_id,
                                 guint32 owner_uid, const char *detail_key,
                                 const char *detail_value, CtrdAuthorizedFunc func,
                                 gpointer user_data, GDestroyNotify destroy);

/* The uid the bus gave for the sender of @invocation, once a check on it got
 * that far (any func called by a check may rely on it); G_MAXUINT32 before. */
guint32 ctrd_authority_get_caller_uid (GDBusMethodInvocation *invocation);

/* The bus client @unique_name left: its pending checks end in denial (the
 * daemon calls this from NameOwnerChanged). */
void ctrd_authority_client_vanished (CtrdAuthority *authority, const char *unique_name);

G_END_DECLS
