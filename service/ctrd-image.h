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

G_END_DECLS
