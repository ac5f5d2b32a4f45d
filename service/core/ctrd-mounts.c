/* ctrd-mounts.c: the Mounts of a container and their rules: which
 * destinations a container may mount over, which bind sources it may have,
 * podman's mount options, and the image's Volumes as anonymous volumes.
 *
 * Every path here is untrusted (a caller's option or an image's config):
 * destinations and bind sources are normalised by their words here; bind
 * sources are opened and checked on the host in ctrd-bind-source.c. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "ctrd-bind-source.h"
#include "ctrd-error.h"
#include "ctrd-mounts.h"
#include "ctrd-util.h"

#define MAX_MOUNT_OPTIONS 32
#define MAX_MOUNT_OPTION_LEN 256

static const char *const mount_type_names[] = {
  [CTRD_MOUNT_BIND] = "bind",
  [CTRD_MOUNT_TMPFS] = "tmpfs",
  [CTRD_MOUNT_VOLUME] = "volume",
};

const char *
ctrd_mount_type_to_string (CtrdMountType type)
{
  if ((guint) type >= G_N_ELEMENTS (mount_type_names))
    return "unknown";
  return mount_type_names[type];
}

gboolean
ctrd_mount_type_from_string (const char *text, CtrdMountType *out_type)
{
  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (mount_type_names); i++)
    {
      if (g_str_equal (text, mount_type_names[i]))
        {
          *out_type = (CtrdMountType) i;
          return TRUE;
        }
    }
  return FALSE;
}

CtrdMount *
ctrd_mount_new (CtrdMountType type, const char *source, const char *destination, gboolean read_only,
                const char *const *options)
{
  CtrdMount *mount = g_new0 (CtrdMount, 1);

  mount->type = type;
  mount->source = g_strdup (source != NULL ? source : "");
  mount->destination = g_strdup (destination != NULL ? destination : "");
  mount->read_only = read_only;
  mount->options = options != NULL ? g_strdupv ((char **) options) : g_new0 (char *, 1);
  return mount;
}

CtrdMount *
ctrd_mount_copy (const CtrdMount *mount)
{
  CtrdMount *copy = ctrd_mount_new (mount->type, mount->source, mount->destination,
                                    mount->read_only, (const char *const *) mount->options);

  copy->anonymous = mount->anonymous;
  return copy;
}

void
ctrd_mount_free (CtrdMount *mount)
{
  if (mount == NULL)
    return;

  g_free (mount->source);
  g_free (mount->destination);
  g_strfreev (mount->options);
  g_free (mount);
}

gboolean
ctrd_volume_validate_name (const char *name, GError **error)
{
  return ctrd_validate_name (name, "Volume name", error);
}

static gboolean
is_at_or_under (const char *path, const char *dir)
{
  gsize len = strlen (dir);

  while (len > 1 && dir[len - 1] == '/')
    len--;
  return strncmp (path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

static gboolean
has_control_chars (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return TRUE;
  return FALSE;
}

/* ctrd_reject_value for functions returning a pointer. */
static gpointer
reject_path_null (GError **error, const char *what, const char *path, const char *problem)
{
  ctrd_reject_value (error, what, path, problem);
  return NULL;
}

/* The runtime mounts these itself; a mount there would undo its setup (or,
 * for /proc/self/fd/N, point somewhere unknowable). */
static const char *const reserved_trees[] = { "/proc", "/sys", "/dev/pts", NULL };
static const char *const reserved_points[] = { "/dev", "/dev/mqueue", NULL };

char *
ctrd_mount_normalize_destination (const char *destination, const char *what, GError **error)
{
  g_auto (GStrv) parts = NULL;
  g_autoptr (GString) clean = g_string_new (NULL);

  if (destination == NULL || !g_path_is_absolute (destination))
    return reject_path_null (error, what, destination, "is not an absolute path");
  if (strlen (destination) >= PATH_MAX)
    return reject_path_null (error, what, destination, "is too long");
  if (has_control_chars (destination))
    return reject_path_null (error, what, destination, "has control characters");

  parts = g_strsplit (destination, "/", -1);
  for (gsize i = 0; parts[i] != NULL; i++)
    {
      if (*parts[i] == '\0' || g_str_equal (parts[i], "."))
        continue;
      if (g_str_equal (parts[i], ".."))
        return reject_path_null (error, what, destination, "has a “..” component");
      g_string_append_printf (clean, "/%s", parts[i]);
    }
  if (clean->len == 0)
    return reject_path_null (error, what, destination, "is the container's root");
  for (gsize i = 0; reserved_trees[i] != NULL; i++)
    if (is_at_or_under (clean->str, reserved_trees[i]))
      return reject_path_null (error, what, destination, "is reserved for the runtime");
  if (g_strv_contains (reserved_points, clean->str))
    return reject_path_null (error, what, destination, "is reserved for the runtime");
  return g_string_free (g_steal_pointer (&clean), FALSE);
}

/* Syntax only (no file system access): what the spec re-checks of a stored mount. */
static gboolean
check_bind_source_syntax (const char *source, GError **error)
{
  g_auto (GStrv) parts = NULL;

  if (source == NULL || !g_path_is_absolute (source))
    return ctrd_reject_value (error, "Bind source", source, "is not an absolute path");
  if (has_control_chars (source))
    return ctrd_reject_value (error, "Bind source", source, "has control characters");
  parts = g_strsplit (source, "/", -1);
  for (gsize i = 0; parts[i] != NULL; i++)
    if (g_str_equal (parts[i], ".."))
      return ctrd_reject_value (error, "Bind source", source, "has a “..” component");
  if (is_at_or_under (source, "/proc"))
    return ctrd_reject_value (error, "Bind source", source, "is inside /proc");
  return TRUE;
}

static gboolean
is_size_value (const char *value)
{
  const char *p = value;

  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    p++;
  if (*p != '\0' && strchr ("kKmMgG%", *p) != NULL)
    p++;
  return *p == '\0' && p - value <= 20;
}

/* The bytes of a size= value (is_size_value), G_MAXUINT64 when it
 * overflows; a percentage of memory counts as 0 (the kernel bounds it). */
static guint64
size_value_bytes (const char *value)
{
  guint64 number = 0, unit = 1;
  const char *p = value;

  for (; g_ascii_isdigit (*p); p++)
    {
      if (number > (G_MAXUINT64 - 9) / 10)
        return G_MAXUINT64;
      number = number * 10 + (guint64) (*p - '0');
    }
  switch (*p)
    {
    case '%':
      return 0;
    case 'k': case 'K':
      unit = 1024;
      break;
    case 'm': case 'M':
      unit = 1024 * 1024;
      break;
    case 'g': case 'G':
      unit = 1024 * 1024 * 1024;
      break;
    default:
      break;
    }
  return number > G_MAXUINT64 / unit ? G_MAXUINT64 : number * unit;
}

static gboolean
is_mode_value (const char *value)
{
  gsize len = strlen (value);

  if (len == 0 || len > 4)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (value[i] < '0' || value[i] > '7')
      return FALSE;
  return TRUE;
}

typedef enum
{
  OPT_WRITE,
  OPT_PROPAGATION,
  OPT_BIND,
  OPT_SUID,
  OPT_DEV,
  OPT_EXEC,
  OPT_SIZE,
  OPT_MODE,
  OPT_COPYUP,
  N_OPT_GROUPS
} OptionGroup;

typedef struct
{
  const char *name; /* a "name=" entry takes a value */
  OptionGroup group;
  gboolean tmpfs; /* allowed with tmpfs */
  gboolean bind;  /* allowed with bind and volume */
} OptionRule;

/* podman's util.ProcessOptions set; SELinux relabelling (z, Z), U and
 * overlay (O) are not supported. */
static const OptionRule option_rules[] = {
  { "rw", OPT_WRITE, TRUE, TRUE },
  { "ro", OPT_WRITE, TRUE, TRUE },
  { "private", OPT_PROPAGATION, TRUE, TRUE },
  { "rprivate", OPT_PROPAGATION, TRUE, TRUE },
  { "shared", OPT_PROPAGATION, TRUE, TRUE },
  { "rshared", OPT_PROPAGATION, TRUE, TRUE },
  { "slave", OPT_PROPAGATION, TRUE, TRUE },
  { "rslave", OPT_PROPAGATION, TRUE, TRUE },
  { "unbindable", OPT_PROPAGATION, TRUE, TRUE },
  { "runbindable", OPT_PROPAGATION, TRUE, TRUE },
  { "bind", OPT_BIND, FALSE, TRUE },
  { "rbind", OPT_BIND, FALSE, TRUE },
  { "suid", OPT_SUID, TRUE, TRUE },
  { "nosuid", OPT_SUID, TRUE, TRUE },
  { "dev", OPT_DEV, TRUE, TRUE },
  { "nodev", OPT_DEV, TRUE, TRUE },
  { "exec", OPT_EXEC, TRUE, TRUE },
  { "noexec", OPT_EXEC, TRUE, TRUE },
  { "size=", OPT_SIZE, TRUE, FALSE },
  { "mode=", OPT_MODE, TRUE, FALSE },
  { "tmpcopyup", OPT_COPYUP, TRUE, FALSE },
  { "notmpcopyup", OPT_COPYUP, TRUE, FALSE },
};

static const OptionRule *
find_option_rule (const char *option, const char **out_value)
{
  for (gsize i = 0; i < G_N_ELEMENTS (option_rules); i++)
    {
      const char *name = option_rules[i].name;
      gsize len = strlen (name);

      if (name[len - 1] == '=' ? strncmp (option, name, len) == 0 : g_str_equal (option, name))
        {
          *out_value = option + (name[len - 1] == '=' ? len : strlen (option));
          return &option_rules[i];
        }
    }
  return NULL;
}

/* The OCI options of a user mount: checked against option_rules, then
 * podman's defaults for what was not given (rw or ro, rprivate, rbind for
 * binds; nosuid, nodev and tmpcopyup for tmpfs). */
static char **
mount_options_for_spec (const CtrdMount *mount, GError **error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  gboolean seen[N_OPT_GROUPS] = { FALSE };
  gboolean is_tmpfs = mount->type == CTRD_MOUNT_TMPFS;
  guint n_options = mount->options != NULL ? g_strv_length (mount->options) : 0;

  if (n_options > MAX_MOUNT_OPTIONS)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Mount options: %u given, at most %d are allowed", n_options, MAX_MOUNT_OPTIONS);
      return NULL;
    }
  for (guint i = 0; i < n_options; i++)
    {
      const char *option = mount->options[i];
      const char *value = NULL;
      const OptionRule *rule =
          strlen (option) <= MAX_MOUNT_OPTION_LEN ? find_option_rule (option, &value) : NULL;

      if (rule == NULL)
        return reject_path_null (error, "Mount option", option, "is not known");
      if (is_tmpfs ? !rule->tmpfs : !rule->bind)
        return reject_path_null (error, "Mount option", option,
                                 is_tmpfs ? "is not for tmpfs mounts" : "is only for tmpfs mounts");
      if (seen[rule->group])
        return reject_path_null (error, "Mount option", option, "repeats or contradicts another");
      seen[rule->group] = TRUE;
      if ((rule->group == OPT_SIZE && !is_size_value (value)) ||
          (rule->group == OPT_MODE && !is_mode_value (value)))
        return reject_path_null (error, "Mount option", option, "has an invalid value");
      if (rule->group == OPT_SIZE && size_value_bytes (value) > CTRD_MAX_TMPFS_BYTES)
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                       "Mount option size= is over the limit of %" G_GUINT64_FORMAT " bytes",
                       CTRD_MAX_TMPFS_BYTES);
          return FALSE;
        }
      if (g_str_equal (option, "rw") && mount->read_only)
        return reject_path_null (error, "Mount option", option, "contradicts ReadOnly");
      /* runc would pass it to the kernel as data */
      if (!g_str_equal (option, "notmpcopyup"))
        g_strv_builder_add (builder, option);
    }

  if (!seen[OPT_WRITE])
    g_strv_builder_add (builder, mount->read_only ? "ro" : "rw");
  if (!seen[OPT_PROPAGATION])
    g_strv_builder_add (builder, "rprivate");
  if (!is_tmpfs && !seen[OPT_BIND])
    g_strv_builder_add (builder, "rbind");
  if (is_tmpfs)
    {
      if (!seen[OPT_SUID])
        g_strv_builder_add (builder, "nosuid");
      if (!seen[OPT_DEV])
        g_strv_builder_add (builder, "nodev");
      if (!seen[OPT_COPYUP])
        g_strv_builder_add (builder, "tmpcopyup");
    }
  return g_strv_builder_end (builder);
}

gboolean
ctrd_mount_check (CtrdMount *mount, const char *const *protected_dirs, GError **error)
{
  g_autofree char *destination = NULL;
  g_autofree char *source = NULL;
  g_auto (GStrv) options = NULL;
  g_autofree char *quoted = ctrd_quote_untrusted (mount->destination);

  g_return_val_if_fail (mount != NULL, FALSE);

  destination = ctrd_mount_normalize_destination (mount->destination, "Mount destination", error);
  if (destination == NULL)
    return FALSE;
  switch (mount->type)
    {
    case CTRD_MOUNT_BIND:
      source = ctrd_bind_source_normalize (mount->source, protected_dirs, error);
      break;
    case CTRD_MOUNT_VOLUME:
      if (ctrd_volume_validate_name (mount->source, error))
        source = g_strdup (mount->source);
      break;
    case CTRD_MOUNT_TMPFS:
      if (mount->source == NULL || *mount->source == '\0' || g_str_equal (mount->source, "tmpfs"))
        source = g_strdup ("");
      else
        ctrd_reject_value (error, "Tmpfs source", mount->source, "must be empty");
      break;
    default:
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "Unknown mount type %d",
                   mount->type);
    }
  if (source == NULL)
    {
      g_prefix_error (error, "Mount on %s: ", quoted);
      return FALSE;
    }
  options = mount_options_for_spec (mount, error);
  if (options == NULL)
    {
      g_prefix_error (error, "Mount on %s: ", quoted);
      return FALSE;
    }

  g_free (mount->destination);
  mount->destination = g_steal_pointer (&destination);
  g_free (mount->source);
  mount->source = g_steal_pointer (&source);
  return TRUE;
}

gboolean
ctrd_mounts_check (GPtrArray *mounts, const char *const *protected_dirs, GError **error)
{
  g_autoptr (GHashTable) destinations = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; mounts != NULL && i < mounts->len; i++)
    {
      CtrdMount *mount = g_ptr_array_index (mounts, i);

      if (!ctrd_mount_check (mount, protected_dirs, error))
        return FALSE;
      if (!g_hash_table_add (destinations, mount->destination))
        return ctrd_reject_value (error, "Mount destination", mount->destination,
                                  "is given more than once");
    }
  return TRUE;
}

gboolean
ctrd_mount_for_spec (const CtrdMount *mount, char **out_destination, char ***out_options,
                     GError **error)
{
  g_autofree char *destination = NULL;
  g_auto (GStrv) options = NULL;

  g_return_val_if_fail (mount != NULL, FALSE);

  destination = ctrd_mount_normalize_destination (mount->destination, "Mount destination", error);
  if (destination == NULL ||
      (mount->type == CTRD_MOUNT_BIND && !check_bind_source_syntax (mount->source, error)))
    return FALSE;
  options = mount_options_for_spec (mount, error);
  if (options == NULL)
    return FALSE;
  *out_destination = g_steal_pointer (&destination);
  *out_options = g_steal_pointer (&options);
  return TRUE;
}

gboolean
ctrd_mounts_add_image_volumes (GPtrArray *mounts, const char *const *image_volumes, GError **error)
{
  g_autoptr (GPtrArray) added = g_ptr_array_new_with_free_func ((GDestroyNotify) ctrd_mount_free);
  g_autoptr (GHashTable) taken = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < mounts->len; i++)
    g_hash_table_add (taken, ((CtrdMount *) g_ptr_array_index (mounts, i))->destination);

  for (gsize i = 0; image_volumes != NULL && image_volumes[i] != NULL; i++)
    {
      g_autofree char *destination = NULL;
      g_autofree char *name = NULL;
      CtrdMount *mount;

      destination = ctrd_mount_normalize_destination (image_volumes[i], "Image volume", error);
      if (destination == NULL)
        return FALSE;
      if (g_hash_table_contains (taken, destination))
        continue;
      /* podman names anonymous volumes by a random 64-hex ID too */
      name = ctrd_generate_id ();
      mount = ctrd_mount_new (CTRD_MOUNT_VOLUME, name, destination, FALSE, NULL);
      mount->anonymous = TRUE;
      g_ptr_array_add (added, mount);
      g_hash_table_add (taken, mount->destination);
    }

  for (guint i = 0; i < added->len; i++)
    g_ptr_array_add (mounts, ctrd_mount_copy (g_ptr_array_index (added, i)));
  return TRUE;
}
