/* ctrd-job.h: org.example.Containers1.Job: a long operation (import,
 * export, commit) on the bus for as long as it runs, with its progress and a
 * way to cancel it. Created, completed and read on the main thread; only
 * ctrd_job_report_progress may be called from the worker doing the work. */
#pragma once

#include "ctrd-daemon.h"

G_BEGIN_DECLS

#define CTRD_TYPE_JOB (ctrd_job_get_type ())
G_DECLARE_FINAL_TYPE (CtrdJob, ctrd_job, CTRD, JOB, CtrJobSkeleton)

/* A job for @operation ("import", "export", "commit") on @object_path (NULL:
 * "/" until known), exported at /org/example/Containers1/jobs/<N> when the
 * daemon is on the bus. Its starter is the sender of @invocation: its uid
 * (from the bus) becomes StartedByUid, and its leaving the bus cancels the
 * job. Cancel is allowed to that uid and to root only (API.md: "only their
 * starter or root"); everyone else gets NotAuthorized. The daemon keeps the
 * job alive until ctrd_job_complete; the caller gets its own reference. */
CtrdJob *ctrd_job_new (CtrdDaemon *daemon, const char *operation, const char *object_path,
                       GDBusMethodInvocation *invocation);

/* Jobs under way at once for one uid other than root (each may hold a
 * transfer thread for as long as its caller's fd stalls). */
#define CTRD_JOBS_PER_UID 4

/* Main thread, after authorization: TRUE if the caller of @invocation may
 * start one more job, else LIMIT_EXCEEDED naming @what (the method) and the
 * limit. Root is not counted against it. */
gboolean ctrd_job_check_quota (GDBusMethodInvocation *invocation, const char *what,
                               GError **error);

/* Cancelled by Cancel or by the starter leaving the bus. Owned by the job. */
GCancellable *ctrd_job_get_cancellable (CtrdJob *job);
const char *ctrd_job_get_object_path (CtrdJob *job);

/* Sets the Object property (main thread). */
void ctrd_job_set_object (CtrdJob *job, const char *object_path);

/* Any thread: @done of @total bytes (0 = unknown). Published through the
 * main context, at most ten times a second. */
void ctrd_job_report_progress (CtrdJob *job, guint64 done, guint64 total);

/* A CtrdProgressFunc that reports to the job passed as @job. */
void ctrd_job_progress_func (guint64 done, guint64 total, gpointer job);

/* Main thread. Publishes the last progress, emits Completed (success when
 * @error is NULL, else its message) and takes the job off the bus. Later
 * calls do nothing. */
void ctrd_job_complete (CtrdJob *job, const GError *error);

G_END_DECLS
