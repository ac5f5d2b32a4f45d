/* ctrd-volume-object.h: one volume object behind
 * org.example.Containers1.Volume (its properties and Remove), the Manager's
 * volume methods (CreateVolume, GetVolume, PruneVolumes), and what the daemon
 * does with volumes on the main thread: publishing them at start, for new
 * containers, and forgetting the ones a container removal took. The files
 * are core/ctrd-volumes.h, the records core/ctrd-volume-records.h. Main
 * thread. */
#pragma once

#include "ctrd-daemon.h"
#include "ctrd-volume-records.h"

G_BEGIN_DECLS

#define CTRD_TYPE_VOLUME (ctrd_volume_get_type ())
G_DECLARE_FINAL_TYPE (CtrdVolume, ctrd_volume, CTRD, VOLUME, CtrVolumeSkeleton)

/* Takes ownership of @record (as the database holds it). */
CtrdVolume *ctrd_volume_new (CtrdDaemon *daemon, CtrdVolumeRecord *record);

const char *ctrd_volume_get_id (CtrdVolume *volume);
const char *ctrd_volume_get_name (CtrdVolume *volume);
const char *ctrd_volume_get_object_path (CtrdVolume *volume);

/* Object path for a volume ID. Free with g_free. */
char *ctrd_volume_path_for_id (const char *id);

/* Recomputes the Containers property from the daemon's containers. */
void ctrd_volume_update_containers (CtrdVolume *volume);

/* Blocks briefly (lists the volumes directory): at the daemon's start, once
 * the containers are loaded. Loads the volume records, records every volume
 * on disk or in a container's Mounts that has none yet (volumes made before
 * records were kept), and publishes them all. */
gboolean ctrd_volume_load_all (CtrdDaemon *daemon, GError **error);

/* For CreateContainer, authorized: records (in the database) the volumes
 * @mounts (CtrdMount*) name that do not exist yet, anonymous ones included,
 * and returns their records (CtrdVolumeRecord*, possibly none), to publish
 * with ctrd_volume_publish_records once the container is stored, or to drop
 * with ctrd_volume_unrecord if it is not. INVALID_STATE for a volume being
 * removed, LIMIT_EXCEEDED past the volumes' share of the bus. Nothing is
 * made on disk: a volume's files come at its first use. */
GPtrArray *ctrd_volume_record_for_mounts (CtrdDaemon *daemon, GPtrArray *mounts, GError **error);
void ctrd_volume_publish_records (CtrdDaemon *daemon, GPtrArray *records);
void ctrd_volume_unrecord (CtrdDaemon *daemon, GPtrArray *records);

/* After a container removal with remove_volumes removed volumes @names from
 * disk: those gone from disk go from the database and the bus. */
void ctrd_volume_forget_removed (CtrdDaemon *daemon, const char *const *names);

/* The Manager's methods; each answers @invocation. */
gboolean ctrd_volume_handle_create (CtrdDaemon *daemon, CtrManager *manager,
                                    GDBusMethodInvocation *invocation, const char *name,
                                    GVariant *options);
gboolean ctrd_volume_handle_get (CtrdDaemon *daemon, CtrManager *manager,
                                 GDBusMethodInvocation *invocation, const char *name_or_id);
gboolean ctrd_volume_handle_prune (CtrdDaemon *daemon, CtrManager *manager,
                                   GDBusMethodInvocation *invocation);

G_END_DECLS
