/* Unit tests for ctrd-util: names, IDs, image references, signals. */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "ctrd-error.h"
#include "ctrd-digest.h"
#include "ctrd-util.h"

typedef struct
{
  const char *input;
  int expected_code; /* -1 = valid */
} NameCase;

static void
test_container_names (void)
{
  g_autofree char *name_128 = g_strnfill (128, 'a');
  g_autofree char *name_129 = g_strnfill (129, 'a');
  const NameCase cases[] = {
    { "a", -1 },
    { "web-1", -1 },
    { "A.b_c-d", -1 },
    { "9lives", -1 },
    { "x..y", -1 }, /* dots inside are plain characters */
    { name_128, -1 },
    { name_129, CTRD_ERROR_LIMIT_EXCEEDED },
    { "", CTRD_ERROR_INVALID_ARGUMENT },
    { "-leading", CTRD_ERROR_INVALID_ARGUMENT },
    { ".hidden", CTRD_ERROR_INVALID_ARGUMENT },
    { "_under", CTRD_ERROR_INVALID_ARGUMENT },
    { "..", CTRD_ERROR_INVALID_ARGUMENT },
    { "a/b", CTRD_ERROR_INVALID_ARGUMENT },
    { "/etc", CTRD_ERROR_INVALID_ARGUMENT },
    { "a b", CTRD_ERROR_INVALID_ARGUMENT },
    { " a", CTRD_ERROR_INVALID_ARGUMENT },
    { "a ", CTRD_ERROR_INVALID_ARGUMENT },
    { "a\tb", CTRD_ERROR_INVALID_ARGUMENT },
    { "a\n", CTRD_ERROR_INVALID_ARGUMENT },
    { "café", CTRD_ERROR_INVALID_ARGUMENT },
    { "ünïcode", CTRD_ERROR_INVALID_ARGUMENT },
    { "a:b", CTRD_ERROR_INVALID_ARGUMENT },
    { "a@b", CTRD_ERROR_INVALID_ARGUMENT },
    { "a$(id)", CTRD_ERROR_INVALID_ARGUMENT },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *quoted = ctrd_quote_untrusted (cases[i].input);
      gboolean ok = ctrd_validate_container_name (cases[i].input, &error);

      g_test_message ("name case %" G_GSIZE_FORMAT ": %s", i, quoted);
      if (cases[i].expected_code < 0)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
        }
      else
        {
          g_assert_error (error, CTRD_ERROR, cases[i].expected_code);
          g_assert_false (ok);
        }
    }

  g_assert_false (ctrd_validate_container_name (NULL, NULL));
}

static void
test_container_name_messages (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *huge = g_strnfill (1024 * 1024, 'x');

  /* Control characters must not reach logs or replies raw. */
  g_assert_false (ctrd_validate_container_name ("bad\033[31mname", &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_null (strchr (error->message, '\033'));
  g_assert_nonnull (strstr (error->message, "bad\\033[31mname"));
  g_clear_error (&error);

  g_assert_false (ctrd_validate_container_name ("nul\377byte", &error));
  g_assert_nonnull (strstr (error->message, "nul\\377byte"));
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_clear_error (&error);

  /* A huge name gives a short message that still says how long it was. */
  g_assert_false (ctrd_validate_container_name (huge, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED);
  g_assert_cmpuint (strlen (error->message), <, 300);
  g_assert_nonnull (strstr (error->message, "1048576"));
  g_assert_nonnull (strstr (error->message, "…"));
}

static void
test_quote_untrusted (void)
{
  g_autofree char *plain = ctrd_quote_untrusted ("web");
  g_autofree char *null = ctrd_quote_untrusted (NULL);
  g_autofree char *escaped = ctrd_quote_untrusted ("a\nb\"c");
  g_autofree char *long_text = g_strnfill (65, 'z');
  g_autofree char *cut = ctrd_quote_untrusted (long_text);
  g_autofree char *exact_text = g_strnfill (64, 'z');
  g_autofree char *exact = ctrd_quote_untrusted (exact_text);
  g_autofree char *expected_cut = g_strdup_printf ("“%s”…", exact_text);
  g_autofree char *expected_exact = g_strdup_printf ("“%s”", exact_text);

  g_assert_cmpstr (plain, ==, "“web”");
  g_assert_cmpstr (null, ==, "(null)");
  g_assert_cmpstr (escaped, ==, "“a\\nb\\\"c”");
  g_assert_cmpstr (cut, ==, expected_cut);
  g_assert_cmpstr (exact, ==, expected_exact);
}

typedef struct
{
  const char *input;
  int expected; /* -1 = rejected */
} SignalCase;

static void
test_parse_signal (void)
{
  const SignalCase cases[] = {
    { "HUP", SIGHUP },
    { "SIGHUP", SIGHUP },
    { "hup", SIGHUP },
    { "sigHup", SIGHUP },
    { "9", SIGKILL },
    { "1", 1 },
    { "KILL", SIGKILL },
    { "SIGTERM", SIGTERM },
    { "term", SIGTERM },
    { "USR1", SIGUSR1 },
    { "SIGCLD", SIGCHLD },
    { "IOT", SIGABRT },
    { "WINCH", SIGWINCH },
    { "SIGRTMIN", SIGRTMIN },
    { "SIGRTMIN+3", SIGRTMIN + 3 },
    { "rtmin+0", SIGRTMIN },
    { "RTMAX", SIGRTMAX },
    { "SIGRTMAX-1", SIGRTMAX - 1 },
    { "64", 64 },
    { "064", 64 },
    { "0", -1 },
    { "", -1 },
    { "-", -1 },
    { "-1", -1 },
    { "SIGBOGUS", -1 },
    { "SIGBADSIG", -1 },
    { "SIG", -1 },
    { "SIGSIGHUP", -1 },
    { "99999", -1 },
    { "99999999999999999999999", -1 },
    { "65", -1 },
    { "1x", -1 },
    { " 1", -1 },
    { "1 ", -1 },
    { "+1", -1 },
    { "HUP ", -1 },
    { "0x9", -1 },
    { "RTMIN+", -1 },
    { "RTMIN-1", -1 },
    { "RTMAX+1", -1 },
    { "RTMAX-", -1 },
    { "RTMIN+99", -1 },
    { "RTMIN+1x", -1 },
  };

  g_assert_cmpint (SIGRTMAX, ==, 64);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *quoted = ctrd_quote_untrusted (cases[i].input);
      int number = ctrd_parse_signal (cases[i].input, &error);

      g_test_message ("signal case %" G_GSIZE_FORMAT ": %s", i, quoted);
      g_assert_cmpint (number, ==, cases[i].expected);
      if (cases[i].expected < 0)
        g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      else
        g_assert_no_error (error);
    }

  g_assert_cmpint (ctrd_parse_signal (NULL, NULL), ==, -1);
}

static void
test_signal_names_round_trip (void)
{
  g_autofree char *term = ctrd_signal_to_name (SIGTERM);
  g_autofree char *rt = ctrd_signal_to_name (SIGRTMIN + 2);

  g_assert_cmpstr (term, ==, "SIGTERM");
  g_assert_cmpstr (rt, ==, "SIGRTMIN+2");

  for (int signo = 1; signo <= SIGRTMAX; signo++)
    {
      g_autofree char *name = ctrd_signal_to_name (signo);

      g_assert_cmpint (ctrd_parse_signal (name, NULL), ==, signo);
    }
}

typedef struct
{
  const char *input;
  const char *expected; /* NULL = rejected */
} ImageRefCase;

static void
test_image_references (void)
{
  g_autofree char *long_name = g_strnfill (256, 'a');
  g_autofree char *max_name = g_strnfill (255, 'a');
  g_autofree char *max_name_tagged = g_strconcat (max_name, ":latest", NULL);
  g_autofree char *long_tag_ref = g_strconcat ("busybox:", long_name, NULL);
  g_autofree char *hex_name = g_strnfill (64, 'a');
  const ImageRefCase cases[] = {
    { "busybox", "busybox:latest" },
    { "busybox:1.36", "busybox:1.36" },
    { "busybox:Latest_V1-2", "busybox:Latest_V1-2" },
    { "library/busybox", "library/busybox:latest" },
    { "docker.io/library/busybox:1", "docker.io/library/busybox:1" },
    { "localhost/app", "localhost/app:latest" },
    { "localhost:5000/app:v2", "localhost:5000/app:v2" },
    { "Registry.Example.com/team/app", "Registry.Example.com/team/app:latest" },
    { "my-app_v2.x", "my-app_v2.x:latest" },
    { "a__b", "a__b:latest" },
    { "a---b", "a---b:latest" },
    { max_name, max_name_tagged },
    { "", NULL },
    { "BusyBox", NULL },
    { "team/BusyBox", NULL },
    { "busybox:", NULL },
    { ":tag", NULL },
    { "busybox:-bad", NULL },
    { "busybox:.bad", NULL },
    { "busybox:a/b", NULL },
    { "busy..box", NULL },
    { "../etc", NULL },
    { "a/../b", NULL },
    { "a___b", NULL },
    { "a_-b", NULL },
    { "-busybox", NULL },
    { "busybox-", NULL },
    { "busybox.", NULL },
    { "/busybox", NULL },
    { "busybox/", NULL },
    { "team//app", NULL },
    { "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL },
    { "busy box", NULL },
    { "busybox:1 ", NULL },
    { "café", NULL },
    { "localhost:port/app", NULL },
    { "-host.com/app", NULL },
    { "host..com/app", NULL },
    { long_name, NULL },
    { long_tag_ref, NULL },
    { hex_name, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *quoted = ctrd_quote_untrusted (cases[i].input);
      g_autofree char *normalized = ctrd_normalize_image_name (cases[i].input, &error);

      g_test_message ("image case %" G_GSIZE_FORMAT ": %s", i, quoted);
      g_assert_cmpstr (normalized, ==, cases[i].expected);
      if (cases[i].expected == NULL)
        {
          g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
          g_assert_cmpuint (strlen (error->message), <, 400);
        }
      else
        g_assert_no_error (error);
    }
}

static void
test_ids (void)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (int i = 0; i < 2000; i++)
    {
      char *id = ctrd_generate_id ();
      gboolean short_id_all_digits = TRUE;

      g_assert_cmpuint (strlen (id), ==, CTRD_ID_LEN);
      g_assert_true (ctrd_is_full_id (id));
      g_assert_true (ctrd_is_id_prefix (id));
      for (int j = 0; j < 12; j++)
        short_id_all_digits = short_id_all_digits && g_ascii_isdigit (id[j]);
      g_assert_false (short_id_all_digits);
      g_assert_true (g_hash_table_add (seen, id));
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, 2000);
}

static void
test_id_checks (void)
{
  g_autofree char *full = g_strnfill (64, 'f');
  g_autofree char *too_long = g_strnfill (65, 'a');
  g_autofree char *upper = g_strnfill (64, 'A');

  g_assert_true (ctrd_is_full_id (full));
  g_assert_false (ctrd_is_full_id (too_long));
  g_assert_false (ctrd_is_full_id (upper));
  g_assert_false (ctrd_is_full_id ("abc"));
  g_assert_false (ctrd_is_full_id (""));
  g_assert_false (ctrd_is_full_id (NULL));

  g_assert_true (ctrd_is_id_prefix ("a"));
  g_assert_true (ctrd_is_id_prefix ("0123456789abcdef"));
  g_assert_true (ctrd_is_id_prefix (full));
  g_assert_false (ctrd_is_id_prefix (too_long));
  g_assert_false (ctrd_is_id_prefix (""));
  g_assert_false (ctrd_is_id_prefix ("abcg"));
  g_assert_false (ctrd_is_id_prefix ("ABC"));
  g_assert_false (ctrd_is_id_prefix ("ab c"));
  g_assert_false (ctrd_is_id_prefix (NULL));
}

static void
test_generated_names (void)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (int i = 0; i < 200; i++)
    {
      char *name = ctrd_generate_name ();
      g_auto (GStrv) parts = g_strsplit (name, "_", -1);
      g_autoptr (GError) error = NULL;

      g_assert_true (ctrd_validate_container_name (name, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (g_strv_length (parts), ==, 2);
      g_assert_cmpstr (parts[0], !=, "");
      g_assert_cmpstr (parts[1], !=, "");
      g_hash_table_add (seen, name);
    }
  /* Drawn at random from over 2500 combinations: 200 draws cannot all collide. */
  g_assert_cmpuint (g_hash_table_size (seen), >, 50);
}

static void
test_now (void)
{
  gint64 before = g_get_real_time ();
  guint64 now = ctrd_now_usec ();
  gint64 after = g_get_real_time ();

  g_assert_cmpuint (now, >=, (guint64) before);
  g_assert_cmpuint (now, <=, (guint64) after);
  /* Microseconds, not seconds or milliseconds: later than 2020 in usec. */
  g_assert_cmpuint (now, >, G_GUINT64_CONSTANT (1577836800000000));
}

/* One rule for every place that checks a host name: what the manager takes
 * at creation, the spec writes and the generated /etc/hostname holds. */
static void
test_hostnames (void)
{
  g_autofree char *first_label = g_strnfill (31, 'a');
  g_autofree char *second_label = g_strnfill (32, 'b');
  g_autofree char *longest = g_strdup_printf ("%s.%s", first_label, second_label);
  g_autofree char *too_long = g_strnfill (65, 'h');
  g_autofree char *long_label = g_strnfill (64, 'l');
  g_autofree char *label_63 = g_strnfill (63, 'l');
  const char *const good[] = {
    "box", "myhost", "gen-host", "0123456789ab", "a", "web.example.com", "A1-b2.C3", NULL,
  };
  const char *const bad[] = {
    "",       "bad_host", "bad host", "bad/host\nname", "-lead", "trail-", ".lead",
    "trail.", "a..b",     "a-.b",     "a.-b",           "ünï",   "a\tb",   NULL,
  };
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; good[i] != NULL; i++)
    {
      g_test_message ("good: %s", good[i]);
      g_assert_true (ctrd_hostname_is_valid (good[i]));
      g_assert_true (ctrd_validate_hostname (good[i], NULL));
    }
  g_assert_cmpuint (strlen (longest), ==, CTRD_HOSTNAME_MAX);
  g_assert_true (ctrd_hostname_is_valid (longest));
  g_assert_true (ctrd_hostname_is_valid (label_63));
  g_assert_false (ctrd_hostname_is_valid (too_long));
  g_assert_false (ctrd_hostname_is_valid (long_label));
  g_assert_false (ctrd_hostname_is_valid (NULL));
  for (gsize i = 0; bad[i] != NULL; i++)
    {
      g_autoptr (GError) bad_error = NULL;

      g_test_message ("bad: %s", bad[i]);
      g_assert_false (ctrd_hostname_is_valid (bad[i]));
      g_assert_false (ctrd_validate_hostname (bad[i], &bad_error));
      g_assert_error (bad_error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      /* the value is escaped, never echoed raw */
      g_assert_null (strchr (bad_error->message, '\n'));
      g_assert_null (strchr (bad_error->message, '\t'));
    }
  g_assert_false (ctrd_validate_hostname (too_long, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
}

/* The resolver's names allow what a host name may not. */
static void
test_dns_names (void)
{
  const CtrdDnsNameFlags lenient = CTRD_DNS_NAME_UNDERSCORE | CTRD_DNS_NAME_TRAILING_DOT;
  g_autofree char *label_63 = g_strnfill (63, 'l');
  g_autofree char *label_64 = g_strnfill (64, 'l');

  g_assert_true (ctrd_is_dns_name ("example.com", 253, CTRD_DNS_NAME_STRICT));
  g_assert_true (ctrd_is_dns_name ("my_host.example.com.", 253, lenient));
  g_assert_true (ctrd_is_dns_name ("_srv", 253, CTRD_DNS_NAME_UNDERSCORE));
  g_assert_false (ctrd_is_dns_name ("my_host", 253, CTRD_DNS_NAME_STRICT));
  g_assert_false (ctrd_is_dns_name ("example.com.", 253, CTRD_DNS_NAME_STRICT));
  g_assert_true (ctrd_is_dns_name ("example.com.", 253, CTRD_DNS_NAME_TRAILING_DOT));
  g_assert_true (ctrd_is_dns_name (label_63, 253, CTRD_DNS_NAME_STRICT));
  g_assert_false (ctrd_is_dns_name (label_64, 253, lenient));
  g_assert_false (ctrd_is_dns_name ("example.com", 5, lenient));
  for (gsize i = 0; i < 7; i++)
    {
      const char *bad = (const char *[]){ ".", "a..", "..", "a-.", "-a.", "a..b.", "" }[i];

      g_test_message ("bad: %s", bad);
      g_assert_false (ctrd_is_dns_name (bad, 253, lenient));
    }
}

static void
test_reject_value (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (ctrd_reject_value (&error, "Host name", "a\nb", "is not valid"));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "Host name “a\\nb” is not valid");
  g_assert_false (ctrd_reject_value (NULL, "Host name", NULL, "is missing"));
}

static void
test_container_paths (void)
{
  g_autofree char *longest = g_strnfill (CTRD_MAX_PATH_BYTES, 'p');
  g_autofree char *too_long = g_strnfill (CTRD_MAX_PATH_BYTES + 1, 'p');
  const char *const good[] = { "/", "/tmp", "/srv/app/", "/a/..b/c..", "/a/./b", NULL };
  const char *const bad[] = { "", "tmp", "./tmp", "/a/../../etc", "/..", "/a/..", NULL };

  longest[0] = too_long[0] = '/';
  for (gsize i = 0; good[i] != NULL; i++)
    g_assert_true (ctrd_validate_container_path (good[i], "WorkingDir", NULL));
  g_assert_true (ctrd_validate_container_path (longest, "WorkingDir", NULL));
  for (gsize i = 0; bad[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;

      g_test_message ("bad: %s", bad[i]);
      g_assert_false (ctrd_validate_container_path (bad[i], "WorkingDir", &error));
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_str_has_prefix (error->message, "WorkingDir "));
    }
  g_assert_false (ctrd_validate_container_path (too_long, "WorkingDir", NULL));
  g_assert_false (ctrd_validate_container_path (NULL, "WorkingDir", NULL));
}

static void
test_env_entries (void)
{
  const char *const good[] = { "A=b", "EMPTY=", "X==", "PATH=/bin:/usr/bin", "a b=c", NULL };
  const char *const secret[] = { "OK=1", "TOKEN", NULL };
  const char *const nameless[] = { "=value", NULL };
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; good[i] != NULL; i++)
    g_assert_true (ctrd_env_entry_is_valid (good[i]));
  g_assert_false (ctrd_env_entry_is_valid ("NOEQUALS"));
  g_assert_false (ctrd_env_entry_is_valid ("=value"));
  g_assert_false (ctrd_env_entry_is_valid (""));
  g_assert_false (ctrd_env_entry_is_valid (NULL));

  g_assert_true (ctrd_validate_env (good, &error));
  g_assert_no_error (error);
  g_assert_false (ctrd_validate_env (nameless, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* the message names the entry by its index: it may hold a secret */
  g_assert_false (ctrd_validate_env (secret, &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_null (strstr (error->message, "TOKEN"));
  g_assert_nonnull (strstr (error->message, "1"));
}

/* Volume names follow container names' rule; the message says which. */
static void
test_named_names (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ctrd_validate_name ("data-1", "Volume name", NULL));
  g_assert_false (ctrd_validate_name ("-x", "Volume name", &error));
  g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_str_has_prefix (error->message, "Volume name "));
  g_clear_error (&error);
  g_assert_false (ctrd_validate_name ("", "Volume name", &error));
  g_assert_cmpstr (error->message, ==, "Volume name must not be empty");
}

/* SHA-256 known answers (FIPS 180-2), fed whole and in pieces. */
static void
test_sha256 (void)
{
  static const char abc_digest[] =
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  static const char empty_digest[] =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  static const char long_input[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  static const char long_digest[] =
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
  g_autoptr (CtrdSha256) abc = ctrd_sha256_new ();
  g_autoptr (CtrdSha256) empty = ctrd_sha256_new ();
  g_autoptr (CtrdSha256) pieces = ctrd_sha256_new ();

  ctrd_sha256_update (abc, "abc", 3);
  g_assert_cmpstr (ctrd_sha256_get_string (abc), ==, abc_digest);
  /* Asking twice gives the same answer. */
  g_assert_cmpstr (ctrd_sha256_get_string (abc), ==, abc_digest);
  g_assert_cmpstr (ctrd_sha256_get_string (empty), ==, empty_digest);
  for (gsize i = 0; i < strlen (long_input); i += 5)
    ctrd_sha256_update (pieces, long_input + i, MIN (5, strlen (long_input) - i));
  g_assert_cmpstr (ctrd_sha256_get_string (pieces), ==, long_digest);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/util/sha256", test_sha256);

  g_test_add_func ("/util/container-name/table", test_container_names);
  g_test_add_func ("/util/container-name/messages", test_container_name_messages);
  g_test_add_func ("/util/quote-untrusted", test_quote_untrusted);
  g_test_add_func ("/util/signal/parse", test_parse_signal);
  g_test_add_func ("/util/signal/round-trip", test_signal_names_round_trip);
  g_test_add_func ("/util/image-reference", test_image_references);
  g_test_add_func ("/util/id/generate", test_ids);
  g_test_add_func ("/util/id/checks", test_id_checks);
  g_test_add_func ("/util/generated-names", test_generated_names);
  g_test_add_func ("/util/now", test_now);
  g_test_add_func ("/util/hostname", test_hostnames);
  g_test_add_func ("/util/dns-name", test_dns_names);
  g_test_add_func ("/util/reject-value", test_reject_value);
  g_test_add_func ("/util/container-path", test_container_paths);
  g_test_add_func ("/util/env-entry", test_env_entries);
  g_test_add_func ("/util/name/what", test_named_names);

  return g_test_run ();
}
