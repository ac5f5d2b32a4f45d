/* ctrd-logs.h: reading a container's log, which conmon writes in the
 * k8s-file format. No D-Bus types.
 *
 * Each line of the file is `TIME STREAM TAG TEXT\n`: TIME in RFC 3339 with
 * nanoseconds and an offset ("2026-11-29T16:12:36.006377233+00:00"), STREAM
 * "stdout" or "stderr", TAG "F" (the text ends a line) or "P" (partial: the
 * text continues in the next line of the same stream). One entry here is a
 * whole line of the container's output: a run of P lines with the F line
 * that ends it, stamped with the F line's time. Lines that do not parse are
 * skipped. All functions block: call them from a worker thread. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* An entry's text is at most this long: a longer line in the file keeps its
 * first CTRD_LOG_TEXT_MAX bytes, and a run of partial lines that grows past
 * it (or stays open across that many bytes of the file, holding back the
 * other stream) is ended there, its rest becoming the next entry. */
#define CTRD_LOG_TEXT_MAX (1024 * 1024)

typedef struct
{
  guint64 time_usec; /* since the Unix epoch */
  gboolean is_stderr;
  char *text; /* without the newline */
} CtrdLogEntry;

void ctrd_log_entry_free (CtrdLogEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtrdLogEntry, ctrd_log_entry_free)

/* The complete entries of the log at @path from byte offset @cursor (0 = the
 * start, else a *@out_next_cursor returned before), at most @max_lines of
 * them (1 or more) and at most about 16 MiB of text. Entries come in the
 * order their last line was written. A line still being written (no newline
 * yet) or a partial run not yet ended is not returned: *@out_next_cursor
 * stays before it, so it comes complete next time. When stdout and stderr
 * interleave inside a partial run the result can hold a few more than
 * @max_lines entries, as the cursor can only stop where no run is open.
 *
 * Each text is made valid UTF-8 (invalid bytes become U+FFFD) so that it
 * can go on the bus as it is.
 *
 * A missing file is an empty log (a container never started has none): an
 * empty array and *@out_next_cursor = @cursor. A @cursor past the end or not
 * at the start of a line is INVALID_ARGUMENT. Returns a GPtrArray of
 * CtrdLogEntry (free with g_ptr_array_unref) or NULL with an error. */
GPtrArray *ctrd_logs_read (const char *path, guint64 cursor, guint max_lines,
                           guint64 *out_next_cursor, GError **error);

typedef struct
{
  gint64 tail;         /* only the last @tail entries of what is there now; -1 = all */
  guint64 since_usec;  /* only entries written at or after this time; 0 = all */
  gboolean timestamps; /* prefix each line with the time as in the file, and a space */
  gboolean follow;     /* after the end, wait for more while still_writing () says so */
} CtrdLogsStreamOptions;

/* Writes the log at @path to @out_fd (normally a pipe) as `TEXT\n` per
 * entry, both streams mixed as written, the text's bytes as they are. With
 * @since_usec and @tail both set, the tail is taken of the entries since that
 * time. Once the end is final (not following, or @still_writing said FALSE)
 * a partial run left open is written as it is: the container's last output
 * without a newline.
 *
 * Following, the file is polled every 100 ms (a missing file is waited
 * for) for as long as @still_writing (@user_data) returns TRUE (NULL: never);
 * once it returns FALSE what was added meanwhile is written and the function
 * returns TRUE. A reader that closes its end gives G_IO_ERROR_BROKEN_PIPE,
 * also while waiting for more (the process must ignore SIGPIPE);
 * cancellation gives G_IO_ERROR_CANCELLED. @out_fd is not closed. */
gboolean ctrd_logs_stream (const char *path, int out_fd, const CtrdLogsStreamOptions *options,
                           gboolean (*still_writing) (gpointer user_data), gpointer user_data,
                           GCancellable *cancellable, GError **error);

G_END_DECLS
