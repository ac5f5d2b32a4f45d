/* ctrd-image.h: one image object behind org.example.Containers1.Image. */
#pragma once

#include "ctrd-daemon.h"
#include "ctrd-db.h"

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

/* The image config's defaults for new containers (empty arrays when unset). */
char **ctrd_image_dup_entrypoint (CtrdImage *image);
char **ctrd_image_dup_cmd (CtrdImage *image);
char **ctrd_image_dup_env (CtrdImage *image);
char *ctrd_image_dup_working_dir (CtrdImage *image);
char *ctrd_image_dup_user (CtrdImage *image);
char *ctrd_image_dup_stop_signal (CtrdImage *image);

char *ctrd_image_path_for_id (const char *id);

G_END_DECLS
