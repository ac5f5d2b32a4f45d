/* ctrd-image.h: one image object behind org.example.Containers1.Image:
 * its properties (from the record and the OCI config), Tag, Untag, Remove
 * and Export. Main thread. */
#pragma once

#include "ctrd-daemon.h"
#include "ctrd-db.h"
#include "ctrd-image-archive.h"

G_BEGIN_DECLS

#define CTRD_TYPE_IMAGE (ctrd_image_get_type ())
G_DECLARE_FINAL_TYPE (CtrdImage, ctrd_image, CTRD, IMAGE, CtrImageSkeleton)

/* Takes ownership of @record. */
CtrdImage *ctrd_image_new (CtrdDaemon *daemon, CtrdImageRecord *record);

const char *ctrd_image_get_id (CtrdImage *image);
const char *ctrd_image_get_commit (CtrdImage *image);
const char *ctrd_image_get_object_path (CtrdImage *image);
const CtrdImageRecord *ctrd_image_get_record (CtrdImage *image);
gboolean ctrd_image_has_name (CtrdImage *image, const char *name);
/* Replaces the names (the caller wrote them to the database first). */
void ctrd_image_set_names (CtrdImage *image, const char *const *names);

/* Gives @image the normalised @name, taking it from the image that had it
 * (as podman tag does); the database first, then the objects. Having it
 * already is success. */
gboolean ctrd_image_add_name (CtrdImage *image, const char *name, GError **error);

/* Records the image an import or a commit produced (@result) in the
 * database and publishes it, or finds the image with that ID if it exists;
 * then gives it @names (normalised; may be NULL). On failure nothing is
 * recorded, and a new ref is deleted again. Returns the image, owned by the
 * daemon. */
CtrdImage *ctrd_image_publish (CtrdDaemon *daemon, const CtrdImportResult *result,
                               const char *const *names, GError **error);

/* The image's OCI config (untrusted: parsed, never checked), the defaults
 * of new containers; owned by @image. */
const CtrdImageConfig *ctrd_image_get_config (CtrdImage *image);

char *ctrd_image_path_for_id (const char *id);

/* No container uses @image (nor keeps it as PreviousImage) and no export
 * or push reads it. */
gboolean ctrd_image_is_unused (CtrdImage *image);

/* An export or push reads @image: Remove and PruneImages leave it alone
 * until the matching release. */
void ctrd_image_hold (CtrdImage *image);
void ctrd_image_release (CtrdImage *image);

/* Manager.ImageEvent for @image (import pull push tag untag remove). */
void ctrd_image_emit_event (CtrdImage *image, const char *event);

/* Takes @images (unused ones: the caller checked with ctrd_image_is_unused)
 * out of the database and off the bus, emitting "remove" for each; a
 * worker then deletes their refs and checkouts and prunes the repository
 * once, and @callback runs on the main thread (its source object is the
 * daemon; g_task_propagate_boolean says whether the clean-up worked).
 * Returns the IDs taken off (a new array); a database failure stops there
 * and sets @error; NULL when none was taken off (then @callback never
 * runs). */
GPtrArray *ctrd_image_remove_unused (CtrdDaemon *daemon, GPtrArray *images,
                                     GAsyncReadyCallback callback, gpointer user_data,
                                     GError **error);

G_END_DECLS
