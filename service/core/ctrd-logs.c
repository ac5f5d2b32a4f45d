/* ctrd-logs.c: reading conmon's k8s-file container logs.
 *
 * The file is read with pread(2) through a small buffer, a line at a time;
 * nothing holds more than one entry's text per stream, so a log of any size
 * costs a bounded amount of memory. A parser joins each stream's partial (P)
 * lines with the line that ends them and hands complete entries to a
 * callback: the ReadLogs reader collects them, the stream writer prints them,
 * and the tail's first pass only counts them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-logs.h"

#define READ_CHUNK (64 * 1024)
/* ReadLogs' reply must stay well below the bus's 128 MiB message limit. */
#define READ_TEXT_BUDGET (16 * 1024 * 1024)
#define STREAM_FLUSH_SIZE (64 * 1024)
/* Short enough that a follower ends soon after its container (run in the
 * foreground waits for it), long enough to cost nothing while idle. */
#define FOLLOW_POLL_MS 20
/* Longer than any RFC 3339 time conmon writes ("…T16:12:36.006377233+00:00" is 35). */
#define TIMESTAMP_MAX 64

void
ctrd_log_entry_free (CtrdLogEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->text);
  g_free (entry);
}

/* ------------------------------------------------------------------ */
/* Lines */

typedef struct
{
  int fd;
  guint64 read_pos; /* file offset of the next pread */
  guint8 *buf;
  gsize buf_len;
  gsize buf_pos;
  GString *line;      /* the current line without its newline, cut at CTRD_LOG_TEXT_MAX */
  guint64 line_start; /* file offset of the current line */
  guint64 line_end;   /* after its newline, once complete */
  gboolean line_complete;
} LineReader;

static void
line_reader_init (LineReader *reader, int fd, guint64 offset)
{
  reader->fd = fd;
  reader->read_pos = offset;
  if (reader->buf == NULL)
    reader->buf = g_malloc (READ_CHUNK);
  reader->buf_len = reader->buf_pos = 0;
  if (reader->line == NULL)
    reader->line = g_string_new (NULL);
  g_string_truncate (reader->line, 0);
  reader->line_start = reader->line_end = offset;
  reader->line_complete = FALSE;
}

static void
line_reader_clear (LineReader *reader)
{
  g_clear_pointer (&reader->buf, g_free);
  if (reader->line != NULL)
    g_string_free (g_steal_pointer (&reader->line), TRUE);
}

/* 1: reader->line holds the next complete line; 0: no complete line (yet):
 * what there is of it stays buffered, and a later call after the file grew
 * goes on from there; -1: error. */
static int
line_reader_next (LineReader *reader, GError **error)
{
  if (reader->line_complete)
    {
      g_string_truncate (reader->line, 0);
      reader->line_start = reader->line_end;
      reader->line_complete = FALSE;
    }

  for (;;)
    {
      const guint8 *start;
      const guint8 *newline;
      gsize chunk;

      if (reader->buf_pos == reader->buf_len)
        {
          gssize n = pread (reader->fd, reader->buf, READ_CHUNK, reader->read_pos);

          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            {
              int errsv = errno;
              g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED, "Reading the log: %s",
                           g_strerror (errsv));
              return -1;
            }
          if (n == 0)
            return 0;
          reader->buf_len = n;
          reader->buf_pos = 0;
          reader->read_pos += n;
        }

      start = reader->buf + reader->buf_pos;
      newline = memchr (start, '\n', reader->buf_len - reader->buf_pos);
      chunk = newline != NULL ? (gsize) (newline - start) : reader->buf_len - reader->buf_pos;
      /* A line longer than CTRD_LOG_TEXT_MAX keeps its first
       * CTRD_LOG_TEXT_MAX bytes; the rest is read past and dropped. */
      if (reader->line->len < CTRD_LOG_TEXT_MAX)
        g_string_append_len (reader->line, (const char *) start,
                             MIN (chunk, CTRD_LOG_TEXT_MAX - reader->line->len));
      if (newline == NULL)
        {
          reader->buf_pos = reader->buf_len;
          continue;
        }
      reader->buf_pos += chunk + 1;
      reader->line_end = reader->read_pos - (reader->buf_len - reader->buf_pos);
      reader->line_complete = TRUE;
      return 1;
    }
}

/* ------------------------------------------------------------------ */
/* Entries */

/* One whole line of the container's output. @text is NULL when the parser
 * only counts. */
typedef struct
{
  guint64 time_usec;
  const char *timestamp;
  gboolean is_stderr;
  const char *text;
  gsize text_len;
} LogRecord;

typedef void (*LogEmitFunc) (const LogRecord *record, gpointer user_data);

typedef struct
{
  gboolean open;
  guint64 start; /* file offset of the run's first line */
  guint64 time_usec;
  char timestamp[TIMESTAMP_MAX]; /* of its latest line */
  GString *text;
} PartialRun;

typedef struct
{
  gboolean keep_text;
  PartialRun runs[2]; /* stdout, stderr */
  LogEmitFunc emit;
  gpointer emit_data;
} LogParser;

static void
log_parser_init (LogParser *parser, gboolean keep_text, LogEmitFunc emit, gpointer emit_data)
{
  parser->keep_text = keep_text;
  parser->emit = emit;
  parser->emit_data = emit_data;
  for (guint i = 0; i < G_N_ELEMENTS (parser->runs); i++)
    {
      parser->runs[i].open = FALSE;
      if (parser->runs[i].text == NULL)
        parser->runs[i].text = g_string_new (NULL);
      g_string_truncate (parser->runs[i].text, 0);
    }
}

static void
log_parser_clear (LogParser *parser)
{
  for (guint i = 0; i < G_N_ELEMENTS (parser->runs); i++)
    if (parser->runs[i].text != NULL)
      g_string_free (g_steal_pointer (&parser->runs[i].text), TRUE);
}

/* TRUE when no partial run is open: the file can be cut here without
 * splitting an entry. */
static gboolean
log_parser_is_quiescent (LogParser *parser)
{
  return !parser->runs[0].open && !parser->runs[1].open;
}

static void
log_parser_end_run (LogParser *parser, guint stream)
{
  PartialRun *run = &parser->runs[stream];
  LogRecord record = { run->time_usec, run->timestamp, stream == 1,
                       parser->keep_text ? run->text->str : NULL, run->text->len };

  parser->emit (&record, parser->emit_data);
  run->open = FALSE;
  g_string_truncate (run->text, 0);
}

/* Ends the open runs, oldest first: at the end of a log that is not written
 * to any more. */
static void
log_parser_finish (LogParser *parser)
{
  PartialRun *runs = parser->runs;

  if (runs[0].open && runs[1].open && runs[1].start < runs[0].start)
    log_parser_end_run (parser, 1);
  for (guint i = 0; i < G_N_ELEMENTS (parser->runs); i++)
    if (runs[i].open)
      log_parser_end_run (parser, i);
}

/* "2026-11-29T16:12:36.006377233+00:00" to microseconds since the epoch. */
static gboolean
parse_timestamp (const char *text, gsize len, char *copy, guint64 *out_usec)
{
  g_autoptr (GDateTime) time = NULL;
  gint64 unix_seconds;

  if (len == 0 || len >= TIMESTAMP_MAX)
    return FALSE;
  memcpy (copy, text, len);
  copy[len] = '\0';
  time = g_date_time_new_from_iso8601 (copy, NULL);
  if (time == NULL)
    return FALSE;
  unix_seconds = g_date_time_to_unix (time);
  if (unix_seconds < 0)
    return FALSE;
  *out_usec = (guint64) unix_seconds * G_USEC_PER_SEC + g_date_time_get_microsecond (time);
  return TRUE;
}

/* Feeds one line of the file, [@line_start, @line_end) there. */
static void
log_parser_feed (LogParser *parser, const GString *line, guint64 line_start, guint64 line_end)
{
  const char *p = line->str;
  const char *end = line->str + line->len;
  const char *space;
  char timestamp[TIMESTAMP_MAX];
  guint64 time_usec;
  guint stream;
  gboolean partial;
  PartialRun *run;

  space = memchr (p, ' ', end - p);
  if (space == NULL || !parse_timestamp (p, space - p, timestamp, &time_usec))
    return;
  p = space + 1;
  if (end - p >= 7 && memcmp (p, "stdout ", 7) == 0)
    stream = 0;
  else if (end - p >= 7 && memcmp (p, "stderr ", 7) == 0)
    stream = 1;
  else
    return;
  p += 7;
  /* The tag may carry more after a ':' (CRI); the first letter decides. */
  if (p == end || (*p != 'F' && *p != 'P'))
    return;
  partial = *p == 'P';
  space = memchr (p, ' ', end - p);
  p = space != NULL ? space + 1 : end;

  /* A run may not stay open across more than CTRD_LOG_TEXT_MAX bytes of the
   * file: that bounds its text, and how much of the other stream a reader
   * must hold back because the cursor cannot stop inside a run. */
  for (guint i = 0; i < G_N_ELEMENTS (parser->runs); i++)
    if (parser->runs[i].open && line_end - parser->runs[i].start > CTRD_LOG_TEXT_MAX)
      log_parser_end_run (parser, i);

  run = &parser->runs[stream];
  if (partial && !run->open)
    {
      run->open = TRUE;
      run->start = line_start;
    }
  if (run->open)
    {
      if (parser->keep_text)
        g_string_append_len (run->text, p, end - p);
      run->time_usec = time_usec;
      memcpy (run->timestamp, timestamp, sizeof timestamp);
      if (!partial)
        log_parser_end_run (parser, stream);
    }
  else
    {
      LogRecord record = { time_usec, timestamp, stream == 1, parser->keep_text ? p : NULL,
                           end - p };
      parser->emit (&record, parser->emit_data);
    }
}

static int
open_log (const char *path, GError **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);

  if (fd < 0 && errno != ENOENT)
    {
      int errsv = errno;
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED, "Opening the log %s: %s", path,
                   g_strerror (errsv));
      errno = errsv; /* callers tell a missing log by errno */
    }
  return fd;
}

/* ------------------------------------------------------------------ */
/* ReadLogs */

typedef struct
{
  GPtrArray *entries;
  gsize text_bytes;
} LogCollector;

static void
collect_record (const LogRecord *record, gpointer user_data)
{
  LogCollector *collector = user_data;
  CtrdLogEntry *entry = g_new0 (CtrdLogEntry, 1);

  entry->time_usec = record->time_usec;
  entry->is_stderr = record->is_stderr;
  entry->text = g_utf8_make_valid (record->text, record->text_len);
  collector->text_bytes += record->text_len;
  g_ptr_array_add (collector->entries, entry);
}

static gboolean
check_cursor (int fd, guint64 cursor, GError **error)
{
  struct stat st;
  char before;
  gssize n;

  if (fstat (fd, &st) < 0)
    {
      int errsv = errno;
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED, "Examining the log: %s",
                   g_strerror (errsv));
      return FALSE;
    }
  if (cursor > (guint64) st.st_size)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Log cursor %" G_GUINT64_FORMAT " is past the end of the log (%" G_GUINT64_FORMAT
                   " bytes)",
                   cursor, (guint64) st.st_size);
      return FALSE;
    }
  if (cursor == 0)
    return TRUE;
  do
    n = pread (fd, &before, 1, cursor - 1);
  while (n < 0 && errno == EINTR);
  if (n != 1 || before != '\n')
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Log cursor %" G_GUINT64_FORMAT " is not at the start of a line", cursor);
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
ctrd_logs_read (const char *path, guint64 cursor, guint max_lines, guint64 *out_next_cursor,
                GError **error)
{
  g_autoptr (GPtrArray) entries =
      g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_log_entry_free);
  LogCollector collector = { entries, 0 };
  LineReader reader = { 0 };
  LogParser parser = { 0 };
  guint committed_len = 0;
  guint64 committed_cursor = cursor;
  int fd;
  int r;

  if (max_lines == 0)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "At least one log line must be asked for");
      return NULL;
    }
  fd = open_log (path, error);
  if (fd < 0 && errno == ENOENT)
    {
      *out_next_cursor = cursor;
      return g_steal_pointer (&entries);
    }
  if (fd < 0)
    return NULL;
  if (!check_cursor (fd, cursor, error))
    {
      close (fd);
      return NULL;
    }

  line_reader_init (&reader, fd, cursor);
  log_parser_init (&parser, TRUE, collect_record, &collector);
  while ((r = line_reader_next (&reader, error)) > 0)
    {
      gboolean full;

      log_parser_feed (&parser, reader.line, reader.line_start, reader.line_end);
      full = entries->len >= max_lines || collector.text_bytes >= READ_TEXT_BUDGET;
      if (log_parser_is_quiescent (&parser))
        {
          committed_len = entries->len;
          committed_cursor = reader.line_end;
          if (full)
            break;
        }
      else if (full && committed_len > 0)
        break;
    }
  line_reader_clear (&reader);
  log_parser_clear (&parser);
  close (fd);
  if (r < 0)
    return NULL;

  /* Entries completed after the last point where no run was open would come
   * again from a cursor placed before that run: leave them for next time. */
  g_ptr_array_set_size (entries, committed_len);
  *out_next_cursor = committed_cursor;
  return g_steal_pointer (&entries);
}

/* ------------------------------------------------------------------ */
/* GetLogs */

typedef struct
{
  int out_fd;
  const CtrdLogsStreamOptions *options;
  guint64 count; /* the counting pass: entries since since_usec */
  guint64 skip;  /* entries since since_usec still to leave out for the tail */
  GString *out;  /* written in batches */
  GCancellable *cancellable;
  GError *error; /* the first write error; later output is dropped */
} LogStream;

static gboolean
log_stream_flush (LogStream *stream)
{
  if (stream->error == NULL && stream->out->len > 0)
    ctrd_fd_write_all (stream->out_fd, stream->out->str, stream->out->len, stream->cancellable,
                           &stream->error);
  g_string_truncate (stream->out, 0);
  return stream->error == NULL;
}

static void
count_record (const LogRecord *record, gpointer user_data)
{
  LogStream *stream = user_data;

  if (record->time_usec >= stream->options->since_usec)
    stream->count++;
}

static void
print_record (const LogRecord *record, gpointer user_data)
{
  LogStream *stream = user_data;

  if (stream->error != NULL || record->time_usec < stream->options->since_usec)
    return;
  if (stream->skip > 0)
    {
      stream->skip--;
      return;
    }
  if (stream->options->timestamps)
    {
      g_string_append (stream->out, record->timestamp);
      g_string_append_c (stream->out, ' ');
    }
  g_string_append_len (stream->out, record->text, record->text_len);
  g_string_append_c (stream->out, '\n');
  if (stream->out->len >= STREAM_FLUSH_SIZE)
    log_stream_flush (stream);
}

/* Feeds every complete line from the reader's position on. FALSE on a read
 * error or when the output failed. */
static gboolean
feed_available_lines (LineReader *reader, LogParser *parser, LogStream *stream, GError **error)
{
  int r;

  while ((r = line_reader_next (reader, error)) > 0)
    {
      log_parser_feed (parser, reader->line, reader->line_start, reader->line_end);
      if (stream->error != NULL)
        return FALSE;
      if (g_cancellable_set_error_if_cancelled (stream->cancellable, error))
        return FALSE;
    }
  return r == 0;
}

/* The number of entries since since_usec in the log as it is now, for the
 * tail: a first pass that keeps no text, so that the output pass can start
 * at the right entry without holding @tail entries in memory. */
static gboolean
count_entries (int fd, LogStream *stream, GError **error)
{
  LineReader reader = { 0 };
  LogParser parser = { 0 };
  gboolean ok;

  line_reader_init (&reader, fd, 0);
  log_parser_init (&parser, FALSE, count_record, stream);
  ok = feed_available_lines (&reader, &parser, stream, error);
  if (!stream->options->follow)
    log_parser_finish (&parser);
  line_reader_clear (&reader);
  log_parser_clear (&parser);
  return ok;
}

/* Waits FOLLOW_POLL_MS, or less when cancelled or when the reader of
 * @out_fd goes away (a pipe's writer sees POLLERR, a socket POLLHUP, with
 * no events asked for). */
static gboolean
wait_for_more (LogStream *stream, GPollFD *cancel_pollfd, GError **error)
{
  struct pollfd fds[2] = { { .fd = stream->out_fd, .events = 0 },
                           { .fd = cancel_pollfd->fd, .events = POLLIN } };

  if (poll (fds, cancel_pollfd->fd >= 0 ? 2 : 1, FOLLOW_POLL_MS) < 0 && errno != EINTR)
    {
      int errsv = errno;
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED, "Waiting for the log: %s",
                   g_strerror (errsv));
      return FALSE;
    }
  if (g_cancellable_set_error_if_cancelled (stream->cancellable, error))
    return FALSE;
  if ((fds[0].revents & (POLLERR | POLLHUP)) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                   "The reader closed its end of the log stream");
      return FALSE;
    }
  return TRUE;
}

/* Following: notices a log that appeared, was truncated, or was replaced by
 * a new file (rotation) once everything of the old one was read, and then
 * sets *@restart: reading must start over at the beginning of *@fd. */
static gboolean
check_log_file (const char *path, int *fd, LineReader *reader, gboolean *restart, GError **error)
{
  struct stat now, at_path;
  int new_fd;

  *restart = FALSE;
  if (*fd < 0)
    {
      *fd = open_log (path, error);
      *restart = *fd >= 0;
      return *fd >= 0 || errno == ENOENT;
    }
  if (fstat (*fd, &now) < 0)
    return TRUE;
  if ((guint64) now.st_size < reader->read_pos)
    {
      *restart = TRUE;
      return TRUE;
    }
  if (reader->read_pos < (guint64) now.st_size || stat (path, &at_path) < 0 ||
      (at_path.st_ino == now.st_ino && at_path.st_dev == now.st_dev))
    return TRUE;
  new_fd = open_log (path, error);
  if (new_fd < 0)
    return errno == ENOENT;
  close (*fd);
  *fd = new_fd;
  *restart = TRUE;
  return TRUE;
}

gboolean
ctrd_logs_stream (const char *path, int out_fd, const CtrdLogsStreamOptions *options,
                  gboolean (*still_writing) (gpointer user_data), gpointer user_data,
                  GCancellable *cancellable, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GError) local_error = NULL;
  LogStream stream = { out_fd, options, 0, 0, out, cancellable, NULL };
  LineReader reader = { 0 };
  LogParser parser = { 0 };
  GPollFD cancel_pollfd = { -1, 0, 0 };
  gboolean last_round = FALSE;
  gboolean ok = TRUE;
  int fd;

  fd = open_log (path, error);
  if (fd < 0 && errno != ENOENT)
    return FALSE;
  if (fd < 0 && !options->follow)
    return TRUE; /* never started: nothing logged */

  if (fd >= 0 && options->tail >= 0)
    {
      ok = count_entries (fd, &stream, &local_error);
      stream.skip = stream.count > (guint64) options->tail ? stream.count - options->tail : 0;
    }
  if (cancellable != NULL && !g_cancellable_make_pollfd (cancellable, &cancel_pollfd))
    cancel_pollfd.fd = -1;

  line_reader_init (&reader, fd, 0);
  log_parser_init (&parser, TRUE, print_record, &stream);
  while (ok)
    {
      gboolean restart;

      ok = fd < 0 || feed_available_lines (&reader, &parser, &stream, &local_error);
      ok = ok && log_stream_flush (&stream);
      if (!ok || !options->follow || last_round)
        break;
      /* One more round after the writer said it stopped: what it wrote
       * between our last read and its answer. */
      if (still_writing == NULL || !still_writing (user_data))
        {
          last_round = TRUE;
          continue;
        }
      ok = wait_for_more (&stream, &cancel_pollfd, &local_error) &&
           check_log_file (path, &fd, &reader, &restart, &local_error);
      if (ok && restart)
        {
          line_reader_init (&reader, fd, 0);
          log_parser_init (&parser, TRUE, print_record, &stream);
        }
    }
  if (ok)
    {
      log_parser_finish (&parser);
      ok = log_stream_flush (&stream);
    }

  if (cancel_pollfd.fd >= 0)
    g_cancellable_release_fd (cancellable);
  line_reader_clear (&reader);
  log_parser_clear (&parser);
  if (fd >= 0)
    close (fd);
  if (ok)
    return TRUE;
  /* A failed write stops the output quietly, so its error is the one to report. */
  if (stream.error != NULL)
    g_propagate_error (error, g_steal_pointer (&stream.error));
  else
    g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}
