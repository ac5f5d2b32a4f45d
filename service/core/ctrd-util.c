/* ctrd-util.c: small pure helpers (names, IDs, signals, time) and the checks
 * of values that more than one module takes (host names, paths, env). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/random.h>

#include "ctrd-error.h"
#include "ctrd-util.h"

/* Untrusted text reaches error messages, logs and D-Bus replies; keep it short and
 * printable so a hostile name cannot forge log lines or flood a reply. */
#define QUOTE_MAX_BYTES 64

char *
ctrd_quote_untrusted (const char *text)
{
  g_autofree char *head = NULL;
  g_autofree char *escaped = NULL;
  gsize len;

  if (text == NULL)
    return g_strdup ("(null)");

  len = strlen (text);
  head = g_strndup (text, MIN (len, QUOTE_MAX_BYTES));
  escaped = g_strescape (head, NULL);
  return g_strdup_printf ("“%s”%s", escaped, len > QUOTE_MAX_BYTES ? "…" : "");
}

gboolean
ctrd_reject_value (GError **error, const char *what, const char *value, const char *problem)
{
  g_autofree char *quoted = ctrd_quote_untrusted (value);

  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "%s %s %s", what, quoted, problem);
  return FALSE;
}

static gboolean
is_name_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '.' || c == '-';
}

gboolean
ctrd_validate_name (const char *name, const char *what, GError **error)
{
  g_autofree char *quoted = NULL;
  gsize len;

  if (name == NULL || *name == '\0')
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "%s must not be empty", what);
      return FALSE;
    }

  quoted = ctrd_quote_untrusted (name);
  len = strlen (name);
  if (len > CTRD_NAME_MAX)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                   "%s %s is %" G_GSIZE_FORMAT " bytes long; at most %d are allowed", what, quoted,
                   len, CTRD_NAME_MAX);
      return FALSE;
    }

  /* it becomes a directory name: no "/", no leading "." or "-" */
  if (!g_ascii_isalnum (name[0]))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s %s must start with a letter or digit", what, quoted);
      return FALSE;
    }

  for (gsize i = 1; i < len; i++)
    {
      if (!is_name_char (name[i]))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "%s %s has a character other than [a-zA-Z0-9_.-] at "
                       "byte %" G_GSIZE_FORMAT,
                       what, quoted, i);
          return FALSE;
        }
    }

  return TRUE;
}

gboolean
ctrd_validate_container_name (const char *name, GError **error)
{
  return ctrd_validate_name (name, "Container name", error);
}

static gboolean
is_lower_hex (const char *s, gsize min_len, gsize max_len)
{
  gsize len = 0;

  if (s == NULL)
    return FALSE;

  for (; s[len] != '\0'; len++)
    {
      if (len >= max_len || !(g_ascii_isdigit (s[len]) || (s[len] >= 'a' && s[len] <= 'f')))
        return FALSE;
    }
  return len >= min_len;
}

gboolean
ctrd_is_full_id (const char *s)
{
  return is_lower_hex (s, CTRD_ID_LEN, CTRD_ID_LEN);
}

gboolean
ctrd_is_id_prefix (const char *s)
{
  return is_lower_hex (s, 1, CTRD_ID_LEN);
}

static void
fill_random (guint8 *buf, gsize len)
{
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = getrandom (buf + done, len - done, 0);

      if (n < 0 && errno == EINTR)
        continue;
      /* An ID from a weak source could collide or be guessed; better to stop. */
      if (n < 0)
        g_error ("getrandom() failed: %s", g_strerror (errno));
      done += n;
    }
}

char *
ctrd_generate_id (void)
{
  guint8 bytes[CTRD_ID_LEN / 2];
  GString *id = g_string_sized_new (CTRD_ID_LEN);

  for (;;)
    {
      gboolean short_id_is_numeric = TRUE;

      fill_random (bytes, sizeof bytes);
      g_string_truncate (id, 0);
      for (gsize i = 0; i < sizeof bytes; i++)
        g_string_append_printf (id, "%02x", bytes[i]);

      /* The first 12 characters become the default hostname and the short ID;
       * an all-digit one reads as a number to many tools (like moby's
       * stringid.GenerateRandomID, draw again). */
      for (gsize i = 0; i < 12; i++)
        short_id_is_numeric = short_id_is_numeric && g_ascii_isdigit (id->str[i]);
      if (!short_id_is_numeric)
        return g_string_free (id, FALSE);
    }
}

static const char *const name_adjectives[] = {
  "agile",  "amber",  "ample",   "bold",   "brave",   "bright", "brisk",   "calm",   "clever",
  "cosy",   "crisp",  "curious", "dapper", "eager",   "fair",   "fond",    "gentle", "glad",
  "golden", "hardy",  "humble",  "jolly",  "keen",    "kind",   "lively",  "lucid",  "merry",
  "mellow", "modest", "nimble",  "noble",  "patient", "placid", "polite",  "proud",  "quiet",
  "rapid",  "serene", "sharp",   "silent", "sincere", "steady", "sturdy",  "sunny",  "swift",
  "tender", "tidy",   "vivid",   "warm",   "wise",    "witty",  "zealous",
};

/* Animals rather than people: nobody's name ends up in a container name. */
static const char *const name_nouns[] = {
  "albatross", "badger",   "beaver",  "bison",   "bobcat",  "buffalo", "camel",  "caribou",
  "cheetah",   "condor",   "coyote",  "crane",   "dingo",   "dolphin", "falcon", "ferret",
  "finch",     "gazelle",  "gecko",   "gibbon",  "heron",   "ibex",    "iguana", "jackal",
  "jaguar",    "kestrel",  "koala",   "lemur",   "leopard", "lynx",    "magpie", "marmot",
  "marten",    "mongoose", "moose",   "narwhal", "ocelot",  "okapi",   "orca",   "osprey",
  "otter",     "panda",    "pelican", "penguin", "puffin",  "quokka",  "raven",  "salmon",
  "seal",      "sparrow",  "stoat",   "tapir",   "toucan",  "walrus",  "weasel", "wombat",
  "yak",       "zebra",
};

char *
ctrd_generate_name (void)
{
  const char *adjective = name_adjectives[g_random_int_range (0, G_N_ELEMENTS (name_adjectives))];
  const char *noun = name_nouns[g_random_int_range (0, G_N_ELEMENTS (name_nouns))];

  return g_strconcat (adjective, "_", noun, NULL);
}

/* Limits from the distribution spec's reference grammar (as in
 * distribution/reference: NameTotalLengthMax and the tag pattern). */
#define IMAGE_NAME_MAX 255
#define IMAGE_TAG_MAX 128

static gboolean
is_lower_alnum (char c)
{
  return g_ascii_isdigit (c) || g_ascii_islower (c);
}

/* A path component: [a-z0-9]+ joined by ".", "_", "__" or one or more "-". */
static const char *
check_path_component (const char *c, gsize len)
{
  gsize i = 0;

  if (len == 0)
    return "has an empty path component";
  for (gsize j = 0; j < len; j++)
    if (g_ascii_isupper (c[j]))
      return "must be lowercase";
  if (!is_lower_alnum (c[0]) || !is_lower_alnum (c[len - 1]))
    return "has a path component that does not start and end with [a-z0-9]";

  while (i < len)
    {
      gsize run;

      if (is_lower_alnum (c[i]))
        {
          i++;
          continue;
        }

      for (run = 0; i + run < len && !is_lower_alnum (c[i + run]); run++)
        ;
      if (!((run == 1 && (c[i] == '.' || c[i] == '_')) ||
            (run == 2 && c[i] == '_' && c[i + 1] == '_') || strspn (c + i, "-") >= run))
        return "has an invalid separator (only '.', '_', '__' or dashes may join lowercase "
               "letters and digits)";
      i += run;
    }
  return NULL;
}

/* A registry host: DNS labels of [A-Za-z0-9-] (not starting or ending with '-')
 * joined by '.', optionally ":port". */
static const char *
check_registry_host (const char *c, gsize len)
{
  const char *colon = memchr (c, ':', len);
  gsize host_len = colon != NULL ? (gsize) (colon - c) : len;
  gsize label_start = 0;

  for (gsize i = 0; i <= host_len; i++)
    {
      if (i < host_len && c[i] != '.')
        {
          if (!g_ascii_isalnum (c[i]) && c[i] != '-')
            return "has an invalid registry host";
          continue;
        }
      if (i == label_start || c[label_start] == '-' || c[i - 1] == '-')
        return "has an invalid registry host";
      label_start = i + 1;
    }

  if (colon != NULL)
    {
      gsize port_len = len - host_len - 1;

      if (port_len == 0 || port_len > 5 || strspn (colon + 1, "0123456789") < port_len)
        return "has an invalid registry port";
    }
  return NULL;
}

static const char *
check_image_tag (const char *tag)
{
  gsize len = strlen (tag);

  if (len == 0)
    return "has an empty tag";
  if (len > IMAGE_TAG_MAX)
    return "has a tag longer than 128 characters";
  if (!(g_ascii_isalnum (tag[0]) || tag[0] == '_'))
    return "has a tag that does not start with [A-Za-z0-9_]";
  for (gsize i = 1; i < len; i++)
    if (!is_name_char (tag[i]))
      return "has a tag with a character other than [A-Za-z0-9_.-]";
  return NULL;
}

static const char *
check_image_name (const char *name)
{
  gsize len = strlen (name);
  const char *component = name;
  gboolean first = TRUE;

  if (len == 0)
    return "has an empty name";
  if (len > IMAGE_NAME_MAX)
    return "has a name longer than 255 characters";
  /* A 64-hex name could not be told apart from an image ID in lookups. */
  if (ctrd_is_full_id (name))
    return "is a 64-character hexadecimal string, which is reserved for image IDs";

  for (;;)
    {
      const char *slash = strchr (component, '/');
      gsize clen = slash != NULL ? (gsize) (slash - component) : strlen (component);
      const char *problem;

      /* Like docker's splitDockerDomain: a first component naming a host has a
       * '.' or ':' or is "localhost", and is followed by more components. */
      if (first && slash != NULL && clen > 0 &&
          (memchr (component, '.', clen) != NULL || memchr (component, ':', clen) != NULL ||
           (clen == strlen ("localhost") && strncmp (component, "localhost", clen) == 0)))
        problem = check_registry_host (component, clen);
      else
        problem = check_path_component (component, clen);
      if (problem != NULL)
        return problem;

      if (slash == NULL)
        return NULL;
      component = slash + 1;
      first = FALSE;
    }
}

char *
ctrd_normalize_image_name (const char *ref, GError **error)
{
  g_autofree char *name = NULL;
  const char *last_slash;
  const char *colon;
  const char *tag = "latest";
  const char *problem;

  if (ref == NULL || *ref == '\0')
    {
      g_set_error_literal (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                           "Image reference must not be empty");
      return NULL;
    }

  if (strchr (ref, '@') != NULL)
    problem = "has a digest; digest references are not supported";
  else
    {
      /* A ':' after the last '/' starts the tag; one before it is a registry port. */
      last_slash = strrchr (ref, '/');
      colon = strchr (last_slash != NULL ? last_slash : ref, ':');
      name = colon != NULL ? g_strndup (ref, colon - ref) : g_strdup (ref);
      if (colon != NULL)
        tag = colon + 1;

      problem = check_image_name (name);
      if (problem == NULL)
        problem = check_image_tag (tag);
    }

  if (problem != NULL)
    {
      g_autofree char *quoted = ctrd_quote_untrusted (ref);

      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "Image reference %s %s", quoted,
                   problem);
      return NULL;
    }

  return g_strconcat (name, ":", tag, NULL);
}

typedef struct
{
  const char *name; /* without "SIG" */
  int number;
} SignalName;

/* Preferred name first where two names share a number, so lookups by number
 * find it. */
static const SignalName signal_names[] = {
  { "HUP", SIGHUP },       { "INT", SIGINT },   { "QUIT", SIGQUIT },     { "ILL", SIGILL },
  { "TRAP", SIGTRAP },     { "ABRT", SIGABRT }, { "IOT", SIGIOT },       { "BUS", SIGBUS },
  { "FPE", SIGFPE },       { "KILL", SIGKILL }, { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 },     { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },     { "TERM", SIGTERM },
#ifdef SIGSTKFLT
  { "STKFLT", SIGSTKFLT },
#endif
  { "CHLD", SIGCHLD },     { "CLD", SIGCHLD },  { "CONT", SIGCONT },     { "STOP", SIGSTOP },
  { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },
  { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
  { "WINCH", SIGWINCH },   { "IO", SIGIO },     { "POLL", SIGPOLL },     { "PWR", SIGPWR },
  { "SYS", SIGSYS },
};

/* Parses all-digit @text into 0..@max; FALSE for anything else (signs, spaces,
 * junk, overflow). */
static gboolean
parse_small_number (const char *text, int max, int *out)
{
  gsize len = strlen (text);
  guint64 value;

  if (len == 0 || strspn (text, "0123456789") != len)
    return FALSE;
  if (!g_ascii_string_to_unsigned (text, 10, 0, max, &value, NULL))
    return FALSE;
  *out = (int) value;
  return TRUE;
}

static int
signal_from_name (const char *name)
{
  int offset;

  if (g_ascii_strncasecmp (name, "RTMIN", 5) == 0)
    {
      if (name[5] == '\0')
        return SIGRTMIN;
      if (name[5] == '+' && parse_small_number (name + 6, SIGRTMAX - SIGRTMIN, &offset))
        return SIGRTMIN + offset;
      return -1;
    }
  if (g_ascii_strncasecmp (name, "RTMAX", 5) == 0)
    {
      if (name[5] == '\0')
        return SIGRTMAX;
      if (name[5] == '-' && parse_small_number (name + 6, SIGRTMAX - SIGRTMIN, &offset))
        return SIGRTMAX - offset;
      return -1;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (signal_names); i++)
    if (g_ascii_strcasecmp (name, signal_names[i].name) == 0)
      return signal_names[i].number;
  return -1;
}

int
ctrd_parse_signal (const char *text, GError **error)
{
  int number = -1;

  if (text != NULL && g_ascii_isdigit (text[0]))
    {
      if (!parse_small_number (text, SIGRTMAX, &number) || number == 0)
        number = -1;
    }
  else if (text != NULL && *text != '\0')
    {
      const char *name = g_ascii_strncasecmp (text, "SIG", 3) == 0 ? text + 3 : text;

      number = signal_from_name (name);
    }

  if (number < 1)
    {
      g_autofree char *quoted = ctrd_quote_untrusted (text);

      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Invalid signal %s: expected a name like SIGTERM, TERM or SIGRTMIN+1, "
                   "or a number from 1 to %d",
                   quoted, SIGRTMAX);
      return -1;
    }
  return number;
}

char *
ctrd_signal_to_name (int signo)
{
  for (gsize i = 0; i < G_N_ELEMENTS (signal_names); i++)
    if (signal_names[i].number == signo)
      return g_strconcat ("SIG", signal_names[i].name, NULL);

  if (signo == SIGRTMIN)
    return g_strdup ("SIGRTMIN");
  if (signo == SIGRTMAX)
    return g_strdup ("SIGRTMAX");
  if (signo > SIGRTMIN && signo < SIGRTMAX)
    return g_strdup_printf ("SIGRTMIN+%d", signo - SIGRTMIN);
  return g_strdup_printf ("%d", signo);
}

guint64
ctrd_now_usec (void)
{
  return (guint64) g_get_real_time ();
}

/* ---------------------------------------------------------------- call arguments */

gboolean
ctrd_validate_string_array (const char *const *strv, guint max_elements, const char *what,
                       GError **error)
{
  gsize bytes = 0;
  guint n = 0;

  for (; strv[n] != NULL; n++)
    {
      bytes += strlen (strv[n]) + 1;
      if (n >= max_elements || bytes > CTRD_MAX_ARGV_BYTES)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                       "%s has more than %u elements or %d bytes", what, max_elements,
                       CTRD_MAX_ARGV_BYTES);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
ctrd_env_entry_is_valid (const char *entry)
{
  const char *eq = entry != NULL ? strchr (entry, '=') : NULL;

  return eq != NULL && eq != entry;
}

gboolean
ctrd_validate_env (const char *const *env, GError **error)
{
  if (!ctrd_validate_string_array (env, CTRD_MAX_ENV_ENTRIES, "Env", error))
    return FALSE;
  for (guint i = 0; env[i] != NULL; i++)
    {
      if (!ctrd_env_entry_is_valid (env[i]))
        {
          /* Do not echo the entry: it may hold a secret. */
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "Env entry %u is not of the form KEY=VALUE", i);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
ctrd_is_dns_name (const char *name, gsize max_len, CtrdDnsNameFlags flags)
{
  gsize len = name != NULL ? strlen (name) : 0;
  gsize label_len = 0;

  if (len == 0 || len > max_len)
    return FALSE;
  /* a fully qualified "example.com." names the same as "example.com" */
  if ((flags & CTRD_DNS_NAME_TRAILING_DOT) && len > 1 && name[len - 1] == '.')
    len--;
  for (gsize i = 0; i <= len; i++)
    {
      char c = i < len ? name[i] : '\0';

      if (c == '.' || c == '\0')
        {
          /* no empty label, none ending in '-' (RFC 1123) */
          if (label_len == 0 || name[i - 1] == '-')
            return FALSE;
          label_len = 0;
          continue;
        }
      if (!g_ascii_isalnum (c) && (c != '-' || label_len == 0) &&
          !(c == '_' && (flags & CTRD_DNS_NAME_UNDERSCORE)))
        return FALSE;
      if (++label_len > CTRD_DNS_LABEL_MAX)
        return FALSE;
    }
  return TRUE;
}

gboolean
ctrd_hostname_is_valid (const char *hostname)
{
  return ctrd_is_dns_name (hostname, CTRD_HOSTNAME_MAX, CTRD_DNS_NAME_STRICT);
}

gboolean
ctrd_validate_hostname (const char *hostname, GError **error)
{
  g_autofree char *printable = NULL;

  if (ctrd_hostname_is_valid (hostname))
    return TRUE;
  printable = g_strescape (hostname != NULL ? hostname : "", NULL);
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
               "Invalid hostname \"%.80s\": labels of letters, digits and '-' joined by '.', "
               "at most %d bytes",
               printable, CTRD_HOSTNAME_MAX);
  return FALSE;
}

gboolean
ctrd_validate_container_path (const char *path, const char *what, GError **error)
{
  if (path == NULL || !g_path_is_absolute (path) || strlen (path) > CTRD_MAX_PATH_BYTES ||
      strstr (path, "/../") != NULL || g_str_has_suffix (path, "/.."))
    {
      g_autofree char *printable = g_strescape (path != NULL ? path : "", NULL);
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s \"%.80s\" must be an absolute path without \"..\"", what, printable);
      return FALSE;
    }
  return TRUE;
}
