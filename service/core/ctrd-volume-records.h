/* ctrd-volume-records.h: what the daemon keeps about each volume beside its
 * files (ctrd-volumes.h): a generated ID, the name, whether it was made for
 * one container (anonymous), labels and the creation time, and the rules
 * for them: label bounds, the JSON the database stores the labels as, the
 * bytes a volume takes on the bus, and which volumes a set of containers
 * uses. No D-Bus types, no disk access. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The most a volume's labels may take (keys and values together), as a
 * container's properties may take CTRD_CONTAINER_PROPERTY_BUDGET. */
#define CTRD_VOLUME_LABELS_MAX_BYTES (64 * 1024)
#define CTRD_VOLUME_MAX_LABELS 256
/* The most all volume objects may take on the bus together (each
 * ctrd_volume_record_exported_size, and CTRD_VOLUME_USE_EXPORTED_BYTES for
 * each container in a Containers property), so that GetManagedObjects
 * stays under the bus's message limit beside the containers' budget: room
 * for 10,000 containers with an anonymous volume each. */
#define CTRD_VOLUMES_EXPORTED_MAX_BYTES (G_GUINT64_CONSTANT (6) << 20)
/* What one container takes in a volume's Containers: its object path and
 * the framing; a Mounts entry costs the volume this, so many small entries
 * cannot make the volumes' properties outgrow their share. */
#define CTRD_VOLUME_USE_EXPORTED_BYTES 128

typedef struct
{
  char *id;           /* 64 lowercase hex, random: never derived from the name */
  char *name;         /* ctrd_volume_validate_name; the directory under volumes/ */
  gboolean anonymous; /* made for one container's Mounts or the image's Volumes */
  GHashTable *labels; /* char* -> char*, owned; never NULL */
  guint64 created_at; /* microseconds since the epoch */
} CtrdVolumeRecord;

/* A record for @name with a new random ID, no labels and the current time.
 * @name is not checked. */
CtrdVolumeRecord *ctrd_volume_record_new (const char *name, gboolean anonymous);
void ctrd_volume_record_free (CtrdVolumeRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdVolumeRecord, ctrd_volume_record_free)

/* Checks a volume's labels (char* -> char*): at most CTRD_VOLUME_MAX_LABELS
 * and CTRD_VOLUME_LABELS_MAX_BYTES (LIMIT_EXCEEDED), no empty key
 * (INVALID_ARGUMENT). */
gboolean ctrd_volume_check_labels (GHashTable *labels, GError **error);

/* The labels as JSON ({"labels": {...}}, keys sorted), for the database. Free with
 * g_free. */
char *ctrd_volume_labels_to_json (GHashTable *labels);
/* Reads ctrd_volume_labels_to_json's text into @labels; INVALID_ARGUMENT for
 * anything else. */
gboolean ctrd_volume_labels_from_json (const char *json, GHashTable *labels, GError **error);

/* An upper bound of the bytes the volume's object takes in a
 * GetManagedObjects reply, without its Containers (which the containers'
 * own budget bounds). */
gsize ctrd_volume_record_exported_size (const CtrdVolumeRecord *record);

/* A volume name that one or more containers' Mounts use. */
typedef struct
{
  char *name;
  gboolean anonymous; /* one of the Mounts entries marks it anonymous */
} CtrdVolumeUse;

void ctrd_volume_use_free (CtrdVolumeUse *use);

/* The volume names of @mounts (CtrdMount*), each once, in the order they
 * come, appended to @uses (CtrdVolumeUse*, free func set) unless already
 * there (a later anonymous entry marks an existing one anonymous). */
void ctrd_volume_uses_add_mounts (GPtrArray *uses, GPtrArray *mounts);

/* TRUE if @mounts (CtrdMount*) has a volume entry for @name. */
gboolean ctrd_volume_mounts_use (GPtrArray *mounts, const char *name);

/* The records to add so that each volume on disk (@disk_names, as
 * ctrd_volumes_list gives them) and each volume some container uses
 * (@uses, CtrdVolumeUse*) has one, given the @records there are
 * (CtrdVolumeRecord*): a new record per name without one, anonymous when a
 * use says so, sorted by name. For the daemon's start: volumes made before
 * the records were kept get one. Element type CtrdVolumeRecord*, free func
 * set. */
GPtrArray *ctrd_volume_records_missing (GPtrArray *records, const char *const *disk_names,
                                        GPtrArray *uses);

G_END_DECLS
