/* Unit tests for ctrd-logs: conmon k8s-file logs read by cursor and streamed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-logs.h"
#include "ctrd-test-util.h"

/* 2026-11-29T16:12:36Z */
#define T0 G_GUINT64_CONSTANT (1795968756)

typedef struct
{
  char *tmpdir;
  char *log;
  char *fds_before;
} Fixture;

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  fx->fds_before = ctrd_test_dir_listing ("/proc/self/fd");
  fx->tmpdir = ctrd_test_make_tmpdir ("test-logs-XXXXXX");
  fx->log = g_build_filename (fx->tmpdir, "ctr.log", NULL);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  g_autofree char *fds_after = ctrd_test_dir_listing ("/proc/self/fd");

  g_assert_cmpstr (fds_after, ==, fx->fds_before);
  ctrd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
  g_free (fx->log);
  g_free (fx->fds_before);
}

/* A log line as conmon writes it, @second seconds and @nanos after T0. */
static char *
log_line (guint second, guint nanos, const char *stream, const char *tag, const char *text)
{
  guint in_day = 16 * 3600 + 12 * 60 + 36 + second;

  g_assert_cmpuint (in_day, <, 24 * 3600);
  return g_strdup_printf ("2026-11-29T%02u:%02u:%02u.%09u+00:00 %s %s %s\n", in_day / 3600,
                          in_day / 60 % 60, in_day % 60, nanos, stream, tag, text);
}

static guint64
line_time (guint second, guint nanos)
{
  return (T0 + second) * G_USEC_PER_SEC + nanos / 1000;
}

/* Like conmon: plain appends, no rename, no fsync. */
static void
write_to_log (const char *path, int flags, const char *content, gsize len)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, content, len), ==, (gssize) len);
  close (fd);
}

static void
write_log (const char *path, const char *content)
{
  write_to_log (path, O_TRUNC, content, strlen (content));
}

static void
append_log (const char *path, const char *content, gsize len)
{
  write_to_log (path, O_APPEND, content, len);
}

/* "o:text|e:text|" for comparing whole results. */
static char *
entries_to_string (GPtrArray *entries)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < entries->len; i++)
    {
      CtrdLogEntry *entry = entries->pdata[i];
      g_string_append_printf (s, "%c:%s|", entry->is_stderr ? 'e' : 'o', entry->text);
    }
  return g_string_free (s, FALSE);
}

static GPtrArray *
read_ok (const char *path, guint64 cursor, guint max_lines, guint64 *next)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *entries = ctrd_logs_read (path, cursor, max_lines, next, &error);

  g_assert_no_error (error);
  g_assert_nonnull (entries);
  return entries;
}

static void
test_read_full_lines (Fixture *fx, gconstpointer data)
{
  g_autofree char *l1 = log_line (0, 6377233, "stdout", "F", "hello world");
  g_autofree char *l2 = log_line (1, 999, "stderr", "F", "oops: an error");
  g_autofree char *l3 = log_line (2, 0, "stdout", "F", "");
  /* the same instant as T0 + 0.0000005 s, written with another offset */
  const char *l4 = "2026-11-29T17:12:36.000000500+01:00 stdout F  two  spaces \n";
  g_autofree char *content = g_strconcat (l1, l2, l3, l4, NULL);
  g_autoptr (GPtrArray) entries = NULL;
  CtrdLogEntry *entry;
  guint64 next = 0;

  write_log (fx->log, content);
  entries = read_ok (fx->log, 0, 100, &next);
  g_assert_cmpuint (next, ==, strlen (content));
  g_assert_cmpuint (entries->len, ==, 4);

  entry = entries->pdata[0];
  g_assert_cmpstr (entry->text, ==, "hello world");
  g_assert_false (entry->is_stderr);
  g_assert_cmpuint (entry->time_usec, ==, line_time (0, 6377233));
  g_assert_cmpuint (entry->time_usec, ==, G_GUINT64_CONSTANT (1795968756006377));
  entry = entries->pdata[1];
  g_assert_cmpstr (entry->text, ==, "oops: an error");
  g_assert_true (entry->is_stderr);
  g_assert_cmpuint (entry->time_usec, ==, line_time (1, 999));
  entry = entries->pdata[2];
  g_assert_cmpstr (entry->text, ==, "");
  entry = entries->pdata[3];
  g_assert_cmpstr (entry->text, ==, " two  spaces ");
  g_assert_cmpuint (entry->time_usec, ==, T0 * G_USEC_PER_SEC);

  /* At the end: nothing more, the cursor stays. */
  g_clear_pointer (&entries, g_ptr_array_unref);
  entries = read_ok (fx->log, next, 100, &next);
  g_assert_cmpuint (entries->len, ==, 0);
  g_assert_cmpuint (next, ==, strlen (content));
}

static void
test_read_partial_joins (Fixture *fx, gconstpointer data)
{
  g_autoptr (GString) content = g_string_new (NULL);
  g_autoptr (GPtrArray) entries = NULL;
  g_autofree char *text = NULL;
  const struct
  {
    const char *stream, *tag, *text;
  } lines[] = {
    { "stdout", "P", "ab" },     { "stdout", "P", "cd" },    { "stdout", "F", "ef" },
    { "stderr", "P", "Pass" },   { "stdout", "F", "plain" }, { "stderr", "F", "word: " },
    { "stdout", "P", "prompt" }, { "stderr", "F", "x" },     { "stdout", "F", "> done" },
  };
  guint64 next;

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_autofree char *line = log_line (i, 0, lines[i].stream, lines[i].tag, lines[i].text);
      g_string_append (content, line);
    }
  write_log (fx->log, content->str);
  entries = read_ok (fx->log, 0, 100, &next);
  text = entries_to_string (entries);
  /* in the order their last line was written; a run of one stream is not
   * broken by the other stream's lines */
  g_assert_cmpstr (text, ==, "o:abcdef|o:plain|e:Password: |e:x|o:prompt> done|");
  g_assert_cmpuint (next, ==, content->len);
  /* a joined entry has the time of the line that ended it */
  g_assert_cmpuint (((CtrdLogEntry *) entries->pdata[0])->time_usec, ==, line_time (2, 0));
  g_assert_cmpuint (((CtrdLogEntry *) entries->pdata[2])->time_usec, ==, line_time (5, 0));
}

static const char *const paging_lines[][3] = {
  { "stdout", "F", "a1" },  { "stdout", "P", "b1-" }, { "stderr", "F", "x1" },
  { "stdout", "P", "b2-" }, { "stderr", "P", "y1-" }, { "stdout", "F", "b3" },
  { "stderr", "F", "y2" },  { "stdout", "F", "c1" },  { "stderr", "F", "z1" },
  { "stdout", "P", "d1-" }, { "stdout", "F", "d2" },  { "stdout", "F", "e1" },
};

static GString *
paging_log (void)
{
  GString *content = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (paging_lines); i++)
    {
      g_autofree char *line =
          log_line (i, i * 1000, paging_lines[i][0], paging_lines[i][1], paging_lines[i][2]);
      g_string_append (content, line);
    }
  return content;
}

static void
test_read_paging (Fixture *fx, gconstpointer data)
{
  g_autoptr (GString) content = paging_log ();
  g_autoptr (GPtrArray) all = NULL;
  g_autofree char *all_text = NULL;
  const char *expected = "o:a1|e:x1|o:b1-b2-b3|e:y1-y2|o:c1|e:z1|o:d1-d2|o:e1|";
  guint64 next;

  write_log (fx->log, content->str);
  all = read_ok (fx->log, 0, 10000, &next);
  all_text = entries_to_string (all);
  g_assert_cmpstr (all_text, ==, expected);
  g_assert_cmpuint (next, ==, content->len);

  for (guint page = 1; page <= 4; page++)
    {
      g_autoptr (GString) paged = g_string_new (NULL);
      guint64 cursor = 0;
      guint calls = 0;

      for (;;)
        {
          g_autoptr (GPtrArray) entries = read_ok (fx->log, cursor, page, &next);
          g_autofree char *text = entries_to_string (entries);

          calls++;
          g_assert_cmpuint (calls, <, 100);
          if (entries->len == 0)
            {
              g_assert_cmpuint (next, ==, cursor);
              break;
            }
          /* more than a page only where a run of the other stream was open */
          if (entries->len > page)
            g_assert_cmpuint (page, <, 3);
          g_assert_cmpuint (next, >, cursor);
          g_assert_cmpint (content->str[next - 1], ==, '\n');
          g_string_append (paged, text);
          cursor = next;
        }
      g_assert_cmpuint (cursor, ==, content->len);
      g_assert_cmpstr (paged->str, ==, expected);
    }
}

static void
test_read_incomplete_tail (Fixture *fx, gconstpointer data)
{
  g_autoptr (GString) content = paging_log ();
  const char *expected = "o:a1|e:x1|o:b1-b2-b3|e:y1-y2|o:c1|e:z1|o:d1-d2|o:e1|";

  /* Whatever point the writer has reached, what is returned is a prefix of
   * the whole, and the rest comes complete from the returned cursor. */
  for (gsize len = 0; len <= content->len; len++)
    {
      g_autoptr (GPtrArray) first = NULL;
      g_autoptr (GPtrArray) second = NULL;
      g_autofree char *first_text = NULL;
      g_autofree char *second_text = NULL;
      g_autofree char *joined = NULL;
      guint64 cursor, next;

      write_to_log (fx->log, O_TRUNC, content->str, len);
      first = read_ok (fx->log, 0, 10000, &cursor);
      first_text = entries_to_string (first);
      g_assert_true (g_str_has_prefix (expected, first_text));
      g_assert_cmpuint (cursor, <=, len);
      g_assert_true (cursor == 0 || content->str[cursor - 1] == '\n');

      append_log (fx->log, content->str + len, content->len - len);
      second = read_ok (fx->log, cursor, 10000, &next);
      second_text = entries_to_string (second);
      joined = g_strconcat (first_text, second_text, NULL);
      g_assert_cmpstr (joined, ==, expected);
      g_assert_cmpuint (next, ==, content->len);
    }
}

static void
test_read_unfinished_run (Fixture *fx, gconstpointer data)
{
  g_autofree char *l1 = log_line (0, 0, "stdout", "F", "first");
  g_autofree char *l2 = log_line (1, 0, "stdout", "P", "Continue? [y/N] ");
  g_autofree char *l3 = log_line (2, 0, "stdout", "F", "y");
  g_autofree char *content = g_strconcat (l1, l2, NULL);
  g_autoptr (GPtrArray) entries = NULL;
  g_autofree char *text = NULL;
  guint64 next;

  write_log (fx->log, content);
  entries = read_ok (fx->log, 0, 100, &next);
  g_assert_cmpuint (entries->len, ==, 1);
  g_assert_cmpuint (next, ==, strlen (l1));

  append_log (fx->log, l3, strlen (l3));
  g_clear_pointer (&entries, g_ptr_array_unref);
  entries = read_ok (fx->log, next, 100, &next);
  text = entries_to_string (entries);
  g_assert_cmpstr (text, ==, "o:Continue? [y/N] y|");
  g_assert_cmpuint (next, ==, strlen (l1) + strlen (l2) + strlen (l3));
}

static void
test_read_bad_cursors (Fixture *fx, gconstpointer data)
{
  g_autofree char *l1 = log_line (0, 0, "stdout", "F", "one");
  g_autofree char *l2 = log_line (1, 0, "stdout", "F", "two");
  g_autofree char *content = g_strconcat (l1, l2, NULL);
  const guint64 bad[] = { 1, strlen (l1) - 1, strlen (l1) + 5, strlen (content) + 1, G_MAXUINT64 };
  guint64 next = 12345;

  write_log (fx->log, content);
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      GPtrArray *entries = ctrd_logs_read (fx->log, bad[i], 10, &next, &error);

      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_null (entries);
      g_assert_cmpuint (next, ==, 12345);
    }

  {
    g_autoptr (GError) error = NULL;
    g_assert_null (ctrd_logs_read (fx->log, 0, 0, &next, &error));
    g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr (GPtrArray) entries = read_ok (fx->log, strlen (l1), 10, &next);
    g_assert_cmpuint (entries->len, ==, 1);
    g_assert_cmpstr (((CtrdLogEntry *) entries->pdata[0])->text, ==, "two");
  }
}

static void
test_read_missing_file (Fixture *fx, gconstpointer data)
{
  g_autoptr (GPtrArray) entries = NULL;
  guint64 next = 99;

  entries = read_ok (fx->log, 0, 10, &next);
  g_assert_cmpuint (entries->len, ==, 0);
  g_assert_cmpuint (next, ==, 0);
}

static void
test_read_malformed_and_bytes (Fixture *fx, gconstpointer data)
{
  g_autofree char *good = log_line (0, 0, "stdout", "F", "ok \xff\xfe bytes");
  g_autofree char *content =
      g_strconcat ("garbage\n", "\n", "2026-11-29T16:12:36.0+00:00 stdin F x\n",
                   "yesterday stdout F x\n", "2026-11-29T16:12:36.0+00:00 stdout X x\n", good,
                   "2026-11-29T16:12:37.5Z stderr F:more tagged\n", NULL);
  g_autoptr (GPtrArray) entries = NULL;
  g_autofree char *text = NULL;
  guint64 next;

  write_log (fx->log, content);
  entries = read_ok (fx->log, 0, 10, &next);
  text = entries_to_string (entries);
  /* invalid UTF-8 becomes U+FFFD, so that the text can go on the bus */
  g_assert_cmpstr (text, ==, "o:ok \xef\xbf\xbd\xef\xbf\xbd bytes|e:tagged|");
  g_assert_true (g_utf8_validate (text, -1, NULL));
  g_assert_cmpuint (next, ==, strlen (content));
  g_assert_cmpuint (((CtrdLogEntry *) entries->pdata[1])->time_usec, ==,
                    (T0 + 1) * G_USEC_PER_SEC + 500000);
}

static void
test_read_long_lines (Fixture *fx, gconstpointer data)
{
  g_autofree char *huge = g_strnfill (CTRD_LOG_TEXT_MAX + 500000, 'h');
  g_autofree char *chunk = g_strnfill (8192, 'p');
  g_autofree char *l1 = log_line (0, 0, "stdout", "F", huge);
  g_autofree char *after = log_line (1, 0, "stderr", "F", "after");
  g_autoptr (GString) content = g_string_new (NULL);
  g_autoptr (GPtrArray) entries = NULL;
  gsize header_len = strlen (l1) - strlen (huge) - 1;
  gsize run_text = 0;
  CtrdLogEntry *entry;
  guint64 next;

  /* A line longer than the limit keeps its first CTRD_LOG_TEXT_MAX bytes. */
  g_string_append (content, l1);
  g_string_append (content, after);
  /* A run of 200 partial lines of 8 KiB: ended at the limit, the rest follows. */
  for (guint i = 0; i < 200; i++)
    {
      g_autofree char *line = log_line (2, 0, "stdout", "P", chunk);
      g_string_append (content, line);
    }
  {
    g_autofree char *line = log_line (3, 0, "stdout", "F", "END");
    g_string_append (content, line);
  }
  write_log (fx->log, content->str);

  entries = read_ok (fx->log, 0, 100, &next);
  g_assert_cmpuint (next, ==, content->len);
  g_assert_cmpuint (entries->len, ==, 4);
  entry = entries->pdata[0];
  g_assert_cmpuint (strlen (entry->text), ==, CTRD_LOG_TEXT_MAX - header_len);
  g_assert_cmpstr (((CtrdLogEntry *) entries->pdata[1])->text, ==, "after");
  for (guint i = 2; i < 4; i++)
    {
      entry = entries->pdata[i];
      g_assert_cmpuint (strlen (entry->text), <=, CTRD_LOG_TEXT_MAX);
      run_text += strlen (entry->text);
    }
  g_assert_cmpuint (run_text, ==, 200 * 8192 + 3);
  g_assert_true (g_str_has_suffix (((CtrdLogEntry *) entries->pdata[3])->text, "pEND"));
}

/* ------------------------------------------------------------------ */
/* Streaming */

typedef struct
{
  gboolean ok;
  GError *error;
  char *output;
} StreamResult;

static void
stream_result_clear (StreamResult *result)
{
  g_clear_error (&result->error);
  g_clear_pointer (&result->output, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (StreamResult, stream_result_clear)

/* Runs ctrd_logs_stream into a pipe drained by a thread that closes its end
 * after @stop_after bytes (-1: at EOF). */
static void
run_stream (const char *path, const CtrdLogsStreamOptions *options,
            gboolean (*still_writing) (gpointer), gpointer user_data, GCancellable *cancellable,
            gssize stop_after, StreamResult *result)
{
  int fds[2];
  CtrdTestPipeReader reader = { 0 };
  GThread *thread;

  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  reader.fd = fds[0];
  reader.stop_after = stop_after;
  reader.data = g_byte_array_new ();
  thread = g_thread_new ("pipe-reader", ctrd_test_pipe_reader_thread, &reader);
  result->ok = ctrd_logs_stream (path, fds[1], options, still_writing, user_data, cancellable,
                                 &result->error);
  close (fds[1]);
  g_thread_join (thread);
  g_byte_array_append (reader.data, (const guint8 *) "", 1);
  result->output = (char *) g_byte_array_free (reader.data, FALSE);
  g_assert_true (result->ok == (result->error == NULL));
}

/* Lines "0".."n-1" at T0+i seconds; line 2 is split in two partial lines. */
static void
write_numbered_log (const char *path, guint n)
{
  g_autoptr (GString) content = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("%u", i);
      g_autofree char *line = NULL;

      if (i == 2)
        {
          g_autofree char *first = log_line (i, 0, "stderr", "P", "");
          g_string_append (content, first);
        }
      line = log_line (i, 0, i % 3 == 2 ? "stderr" : "stdout", "F", text);
      g_string_append (content, line);
    }
  write_log (path, content->str);
}

static char *
numbered_lines (guint from, guint to)
{
  GString *s = g_string_new (NULL);

  for (guint i = from; i < to; i++)
    g_string_append_printf (s, "%u\n", i);
  return g_string_free (s, FALSE);
}

static void
test_stream_tail_since (Fixture *fx, gconstpointer data)
{
  const struct
  {
    gint64 tail;
    guint since_second;
    guint from;
  } cases[] = {
    { -1, 0, 0 }, { 100, 0, 0 }, { 10, 0, 0 }, { 9, 0, 1 }, { 3, 0, 7 },
    { 1, 0, 9 },  { 0, 0, 10 },  { -1, 4, 4 }, { 2, 4, 8 }, { 20, 4, 4 },
  };

  write_numbered_log (fx->log, 10);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (StreamResult) result = { 0 };
      g_autofree char *expected = numbered_lines (cases[i].from, 10);
      CtrdLogsStreamOptions options = { cases[i].tail, 0, FALSE, FALSE };

      if (cases[i].since_second > 0)
        options.since_usec = line_time (cases[i].since_second, 0);
      run_stream (fx->log, &options, NULL, NULL, NULL, -1, &result);
      g_assert_no_error (result.error);
      g_assert_cmpstr (result.output, ==, expected);
    }
}

static void
test_stream_timestamps (Fixture *fx, gconstpointer data)
{
  g_autofree char *l1 = log_line (0, 6377233, "stdout", "P", "hel");
  g_autofree char *l2 = log_line (1, 42, "stdout", "F", "lo");
  g_autofree char *l3 = log_line (2, 0, "stderr", "F", "raw \xff byte");
  g_autofree char *l4 = log_line (3, 0, "stdout", "P", "no newline at exit");
  g_autofree char *content = g_strconcat (l1, l2, l3, l4, NULL);
  CtrdLogsStreamOptions options = { -1, 0, TRUE, FALSE };
  g_auto (StreamResult) result = { 0 };

  write_log (fx->log, content);
  run_stream (fx->log, &options, NULL, NULL, NULL, -1, &result);
  g_assert_no_error (result.error);
  g_assert_cmpstr (result.output, ==,
                   "2026-11-29T16:12:37.000000042+00:00 hello\n"
                   "2026-11-29T16:12:38.000000000+00:00 raw \xff byte\n"
                   "2026-11-29T16:12:39.000000000+00:00 no newline at exit\n");
}

static void
test_stream_missing_file (Fixture *fx, gconstpointer data)
{
  CtrdLogsStreamOptions options = { -1, 0, TRUE, FALSE };
  g_auto (StreamResult) result = { 0 };

  run_stream (fx->log, &options, NULL, NULL, NULL, -1, &result);
  g_assert_no_error (result.error);
  g_assert_cmpstr (result.output, ==, "");
}

typedef struct
{
  const char *path;
  guint first;
  guint n_lines;
  gint done;
} LogWriter;

static gboolean
writer_still_writing (gpointer user_data)
{
  LogWriter *writer = user_data;
  return !g_atomic_int_get (&writer->done);
}

/* Appends lines first..first+n_lines-1 a few ms apart, some of them in two
 * partial pieces written separately, then says it stopped. */
static gpointer
log_writer_thread (gpointer user_data)
{
  LogWriter *writer = user_data;

  for (guint i = writer->first; i < writer->first + writer->n_lines; i++)
    {
      g_autofree char *text = g_strdup_printf ("%u", i);
      g_autofree char *line = log_line (i % 20, 0, i % 2 ? "stderr" : "stdout", "F", text);

      if (i % 5 == 0)
        {
          g_autofree char *piece = log_line (i % 20, 0, i % 2 ? "stderr" : "stdout", "P", "");
          append_log (writer->path, piece, strlen (piece));
          g_usleep (2000);
        }
      /* half a line, then the rest: a reader must not take the half */
      append_log (writer->path, line, 10);
      g_usleep (1000);
      append_log (writer->path, line + 10, strlen (line) - 10);
      g_usleep (3000);
    }
  g_atomic_int_set (&writer->done, TRUE);
  return NULL;
}

/* Follows the log (from its last @tail entries) while a thread appends lines
 * @first..@first+@n_lines-1 to it, and checks that all of them arrive, from
 * @expected_from on, complete and in order. */
static void
assert_follow_sees_all (Fixture *fx, gint64 tail, guint first, guint n_lines, guint expected_from)
{
  LogWriter writer = { fx->log, first, n_lines, FALSE };
  CtrdLogsStreamOptions options = { tail, 0, FALSE, TRUE };
  g_auto (StreamResult) result = { 0 };
  g_autofree char *expected = numbered_lines (expected_from, first + n_lines);
  GThread *thread;

  thread = g_thread_new ("log-writer", log_writer_thread, &writer);
  run_stream (fx->log, &options, writer_still_writing, &writer, NULL, -1, &result);
  g_thread_join (thread);
  g_assert_no_error (result.error);
  g_assert_cmpstr (result.output, ==, expected);
}

static void
test_stream_follow (Fixture *fx, gconstpointer data)
{
  write_numbered_log (fx->log, 10);
  assert_follow_sees_all (fx, 2, 10, 60, 8);
}

static void
test_stream_follow_missing_file (Fixture *fx, gconstpointer data)
{
  /* A container not started yet: the log appears once it runs. */
  assert_follow_sees_all (fx, 0, 0, 20, 0);
}

static void
test_stream_reader_closes (Fixture *fx, gconstpointer data)
{
  CtrdLogsStreamOptions options = { -1, 0, TRUE, FALSE };
  g_auto (StreamResult) result = { 0 };

  write_numbered_log (fx->log, 20000);
  run_stream (fx->log, &options, NULL, NULL, NULL, 100, &result);
  g_assert_error (result.error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
  g_assert_cmpuint (strlen (result.output), ==, 100);
}

static gboolean
always_writing (gpointer user_data)
{
  return TRUE;
}

static void
test_stream_reader_closes_while_following (Fixture *fx, gconstpointer data)
{
  CtrdLogsStreamOptions options = { -1, 0, FALSE, TRUE };
  g_auto (StreamResult) result = { 0 };
  gint64 started = g_get_monotonic_time ();

  /* Nothing to write, ever: the closed pipe must still be noticed. */
  write_log (fx->log, "");
  run_stream (fx->log, &options, always_writing, NULL, NULL, 0, &result);
  g_assert_error (result.error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
  g_assert_cmpint (g_get_monotonic_time () - started, <, 5 * G_USEC_PER_SEC);
}

static gpointer
cancel_soon_thread (gpointer user_data)
{
  g_usleep (150000);
  g_cancellable_cancel (user_data);
  return NULL;
}

static void
test_stream_cancel (Fixture *fx, gconstpointer data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  CtrdLogsStreamOptions options = { -1, 0, FALSE, TRUE };
  g_auto (StreamResult) result = { 0 };
  g_autofree char *expected = numbered_lines (0, 4);
  GThread *thread;

  write_numbered_log (fx->log, 4);
  thread = g_thread_new ("canceller", cancel_soon_thread, cancellable);
  run_stream (fx->log, &options, always_writing, NULL, cancellable, -1, &result);
  g_thread_join (thread);
  g_assert_error (result.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (result.output, ==, expected);
}

int
main (int argc, char **argv)
{
  /* as the daemon does: a closed reader must be an error, not a death */
  signal (SIGPIPE, SIG_IGN);
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func)                                                                            \
  g_test_add ("/logs/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("read/full-lines", test_read_full_lines);
  ADD ("read/partial-joins", test_read_partial_joins);
  ADD ("read/paging", test_read_paging);
  ADD ("read/incomplete-tail", test_read_incomplete_tail);
  ADD ("read/unfinished-run", test_read_unfinished_run);
  ADD ("read/bad-cursors", test_read_bad_cursors);
  ADD ("read/missing-file", test_read_missing_file);
  ADD ("read/malformed-and-bytes", test_read_malformed_and_bytes);
  ADD ("read/long-lines", test_read_long_lines);
  ADD ("stream/tail-since", test_stream_tail_since);
  ADD ("stream/timestamps", test_stream_timestamps);
  ADD ("stream/missing-file", test_stream_missing_file);
  ADD ("stream/follow", test_stream_follow);
  ADD ("stream/follow-missing-file", test_stream_follow_missing_file);
  ADD ("stream/reader-closes", test_stream_reader_closes);
  ADD ("stream/reader-closes-while-following", test_stream_reader_closes_while_following);
  ADD ("stream/cancel", test_stream_cancel);
#undef ADD

  return g_test_run ();
}
