/* ctrd-seccomp.c: podman's seccomp profile format translated into the OCI
 * spec's linux.seccomp (what runc hands to libseccomp).
 *
 * The rules are those of containers/common's setupSeccomp: an entry is kept
 * for this container unless its "excludes" or "includes" say otherwise
 * (architecture, bounding capabilities, kernel version). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "ctrd-error.h"
#include "ctrd-fdio.h"
#include "ctrd-seccomp.h"
#include "ctrd-util.h"

/* Profiles are a few tens of KiB; a bigger file is not one. */
#define MAX_PROFILE_BYTES (4 * 1024 * 1024)
/* Syscall arguments are numbered 0..5. */
#define MAX_ARG_INDEX 5

typedef struct
{
  const char *machine;      /* uname -m */
  const char *profile_arch; /* the profile's name for it */
  const char *scmp_arch;    /* the archMap's */
} ArchName;

static const ArchName arch_names[] = {
  { "x86_64", "amd64", "SCMP_ARCH_X86_64" },   { "aarch64", "arm64", "SCMP_ARCH_AARCH64" },
  { "i686", "x86", "SCMP_ARCH_X86" },          { "i386", "x86", "SCMP_ARCH_X86" },
  { "armv7l", "arm", "SCMP_ARCH_ARM" },        { "armv6l", "arm", "SCMP_ARCH_ARM" },
  { "ppc64le", "ppc64le", "SCMP_ARCH_PPC64LE" }, { "s390x", "s390x", "SCMP_ARCH_S390X" },
  { "riscv64", "riscv64", "SCMP_ARCH_RISCV64" },
};

static const char *const actions[] = {
  "SCMP_ACT_ALLOW",        "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",  "SCMP_ACT_TRACE", "SCMP_ACT_LOG",
  NULL,
};

static const char *const operators[] = {
  "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
  "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL,
};

const char *
ctrd_seccomp_native_arch (void)
{
  struct utsname name;

  if (uname (&name) != 0)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (arch_names); i++)
    if (g_str_equal (name.machine, arch_names[i].machine))
      return arch_names[i].profile_arch;
  return NULL;
}

static const char *
scmp_arch_for (const char *profile_arch)
{
  for (gsize i = 0; i < G_N_ELEMENTS (arch_names); i++)
    if (g_str_equal (profile_arch, arch_names[i].profile_arch))
      return arch_names[i].scmp_arch;
  return NULL;
}

static gboolean
profile_error (GError **error, const char *where, const char *problem)
{
  g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "seccomp profile: %s %s", where,
               problem);
  return FALSE;
}

static gboolean
strv_has (const char *const *strv, const char *value)
{
  return strv != NULL && g_strv_contains (strv, value);
}

/* An optional array of strings at @object.@member; NULL when absent or null. */
static gboolean
read_string_list (JsonObject *object, const char *member, const char *where, GPtrArray **out,
                  GError **error)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;
  JsonArray *array;
  g_autoptr (GPtrArray) list = g_ptr_array_new ();

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return profile_error (error, where, "is not a list of strings");
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING)
        return profile_error (error, where, "is not a list of strings");
      g_ptr_array_add (list, (gpointer) json_node_get_string (element));
    }
  g_ptr_array_add (list, NULL);
  *out = g_steal_pointer (&list);
  return TRUE;
}

static gboolean
read_optional_object (JsonObject *object, const char *member, const char *where,
                      JsonObject **out, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return profile_error (error, where, "is not an object");
  *out = json_node_get_object (node);
  return TRUE;
}

static gboolean
read_optional_string (JsonObject *object, const char *member, const char *where, const char **out,
                      GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return profile_error (error, where, "is not a string");
  *out = json_node_get_string (node);
  return TRUE;
}

/* A non-negative integer (json-glib keeps numbers up to 2^63-1 exactly). */
static gboolean
read_optional_uint (JsonObject *object, const char *member, const char *where, gboolean *out_set,
                    gint64 *out, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *out_set = FALSE;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64 ||
      json_node_get_int (node) < 0)
    return profile_error (error, where, "is not a non-negative integer");
  *out_set = TRUE;
  *out = json_node_get_int (node);
  return TRUE;
}

/* "major.minor[.patch][-extra]" -> major * 1000 + minor; -1 when unreadable. */
static gint64
kernel_version (const char *release)
{
  char *end = NULL;
  gint64 major, minor = 0;

  if (release == NULL || !g_ascii_isdigit (*release))
    return -1;
  major = g_ascii_strtoll (release, &end, 10);
  if (*end == '.')
    minor = g_ascii_strtoll (end + 1, NULL, 10);
  return major * 1000 + minor;
}

/* includes/excludes: FALSE in @out_keep when the entry is not for @target. */
static gboolean
entry_applies (JsonObject *entry, const CtrdSeccompTarget *target, const char *arch,
               const char *kernel, const char *where, gboolean *out_keep, GError **error)
{
  JsonObject *includes, *excludes;
  g_autoptr (GPtrArray) ex_arches = NULL, ex_caps = NULL, in_arches = NULL, in_caps = NULL;
  const char *min_kernel = NULL;

  *out_keep = FALSE;
  if (!read_optional_object (entry, "includes", where, &includes, error) ||
      !read_optional_object (entry, "excludes", where, &excludes, error) ||
      !read_string_list (excludes, "arches", where, &ex_arches, error) ||
      !read_string_list (excludes, "caps", where, &ex_caps, error) ||
      !read_string_list (includes, "arches", where, &in_arches, error) ||
      !read_string_list (includes, "caps", where, &in_caps, error) ||
      (includes != NULL &&
       !read_optional_string (includes, "minKernel", where, &min_kernel, error)))
    return FALSE;

  if (ex_arches != NULL && arch != NULL && strv_has ((const char *const *) ex_arches->pdata, arch))
    return TRUE;
  for (guint i = 0; ex_caps != NULL && ex_caps->pdata[i] != NULL; i++)
    if (strv_has (target->caps, ex_caps->pdata[i]))
      return TRUE;
  if (in_arches != NULL && in_arches->len > 1 &&
      (arch == NULL || !strv_has ((const char *const *) in_arches->pdata, arch)))
    return TRUE;
  for (guint i = 0; in_caps != NULL && in_caps->pdata[i] != NULL; i++)
    if (!strv_has (target->caps, in_caps->pdata[i]))
      return TRUE;
  if (min_kernel != NULL && *min_kernel != '\0')
    {
      gint64 needed = kernel_version (min_kernel);

      if (needed < 0)
        return profile_error (error, where, "has an unreadable includes.minKernel");
      if (kernel_version (kernel) < needed)
        return TRUE;
    }
  *out_keep = TRUE;
  return TRUE;
}

static gboolean
check_action (const char *action, const char *where, GError **error)
{
  if (action == NULL)
    return profile_error (error, where, "has no action");
  if (!strv_has (actions, action))
    return profile_error (error, where, "has an unknown action");
  return TRUE;
}

static JsonArray *
translate_args (JsonObject *entry, const char *where, GError **error)
{
  JsonNode *node = json_object_get_member (entry, "args");
  g_autoptr (JsonArray) out = json_array_new ();
  JsonArray *args;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return g_steal_pointer (&out);
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      profile_error (error, where, "has args that are not a list");
      return NULL;
    }
  args = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (args); i++)
    {
      JsonNode *arg_node = json_array_get_element (args, i);
      JsonObject *arg, *copy;
      gint64 index = 0, value = 0, value_two = 0;
      gboolean has_index, has_value, has_value_two;
      const char *op = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (arg_node))
        {
          profile_error (error, where, "has an argument that is not an object");
          return NULL;
        }
      arg = json_node_get_object (arg_node);
      if (!read_optional_uint (arg, "index", where, &has_index, &index, error) ||
          !read_optional_uint (arg, "value", where, &has_value, &value, error) ||
          !read_optional_uint (arg, "valueTwo", where, &has_value_two, &value_two, error) ||
          !read_optional_string (arg, "op", where, &op, error))
        return NULL;
      if (index > MAX_ARG_INDEX)
        {
          profile_error (error, where, "has an argument index over 5");
          return NULL;
        }
      if (op == NULL || !strv_has (operators, op))
        {
          profile_error (error, where, "has an argument with an unknown op");
          return NULL;
        }
      copy = json_object_new ();
      json_object_set_int_member (copy, "index", index);
      json_object_set_int_member (copy, "value", value);
      json_object_set_int_member (copy, "valueTwo", value_two);
      json_object_set_string_member (copy, "op", op);
      json_array_add_object_element (out, copy);
    }
  return g_steal_pointer (&out);
}

/* One syscalls entry as OCI has it, or NULL in @out when it is not for @target. */
static gboolean
translate_entry (JsonNode *node, guint n, const CtrdSeccompTarget *target, const char *arch,
                 const char *kernel, JsonObject **out, GError **error)
{
  g_autofree char *where = g_strdup_printf ("syscalls[%u]", n);
  g_autoptr (JsonObject) syscall = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (JsonArray) args = NULL;
  const char *name = NULL, *action = NULL;
  JsonObject *entry;
  JsonArray *names_array;
  gboolean keep, has_errno;
  gint64 errno_ret = 0;

  *out = NULL;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return profile_error (error, where, "is not an object");
  entry = json_node_get_object (node);
  if (!entry_applies (entry, target, arch, kernel, where, &keep, error))
    return FALSE;
  if (!read_optional_string (entry, "name", where, &name, error) ||
      !read_string_list (entry, "names", where, &names, error) ||
      !read_optional_string (entry, "action", where, &action, error) ||
      !check_action (action, where, error) ||
      !read_optional_uint (entry, "errnoRet", where, &has_errno, &errno_ret, error))
    return FALSE;
  if (name != NULL && *name != '\0' && names != NULL && names->len > 1)
    return profile_error (error, where, "has both name and names");
  if ((name == NULL || *name == '\0') && (names == NULL || names->len <= 1))
    return profile_error (error, where, "names no system call");
  args = translate_args (entry, where, error);
  if (args == NULL)
    return FALSE;
  if (!keep)
    return TRUE;

  names_array = json_array_new ();
  if (name != NULL && *name != '\0')
    json_array_add_string_element (names_array, name);
  for (guint i = 0; names != NULL && names->pdata[i] != NULL; i++)
    json_array_add_string_element (names_array, names->pdata[i]);
  syscall = json_object_new ();
  json_object_set_array_member (syscall, "names", names_array);
  json_object_set_string_member (syscall, "action", action);
  if (json_array_get_length (args) > 0)
    json_object_set_array_member (syscall, "args", g_steal_pointer (&args));
  if (has_errno)
    json_object_set_int_member (syscall, "errnoRet", errno_ret);
  *out = g_steal_pointer (&syscall);
  return TRUE;
}

/* "architectures", or the archMap entry for @arch with its sub-architectures. */
static gboolean
translate_architectures (JsonObject *profile, const char *arch, JsonArray **out, GError **error)
{
  g_autoptr (GPtrArray) listed = NULL;
  JsonNode *map_node = json_object_get_member (profile, "archMap");
  const char *scmp_arch = arch != NULL ? scmp_arch_for (arch) : NULL;
  g_autoptr (JsonArray) architectures = json_array_new ();
  JsonArray *map;

  *out = NULL;
  if (!read_string_list (profile, "architectures", "architectures", &listed, error))
    return FALSE;
  if (map_node == NULL || JSON_NODE_HOLDS_NULL (map_node))
    {
      for (guint i = 0; listed != NULL && listed->pdata[i] != NULL; i++)
        json_array_add_string_element (architectures, listed->pdata[i]);
      *out = g_steal_pointer (&architectures);
      return TRUE;
    }
  if (listed != NULL && listed->len > 1)
    return profile_error (error, "architectures", "and archMap are both given");
  if (!JSON_NODE_HOLDS_ARRAY (map_node))
    return profile_error (error, "archMap", "is not a list");
  map = json_node_get_array (map_node);
  for (guint i = 0; i < json_array_get_length (map); i++)
    {
      JsonNode *element = json_array_get_element (map, i);
      g_autofree char *where = g_strdup_printf ("archMap[%u]", i);
      g_autoptr (GPtrArray) sub = NULL;
      const char *architecture = NULL;
      JsonObject *entry;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return profile_error (error, where, "is not an object");
      entry = json_node_get_object (element);
      if (!read_optional_string (entry, "architecture", where, &architecture, error) ||
          !read_string_list (entry, "subArchitectures", where, &sub, error))
        return FALSE;
      if (architecture == NULL)
        return profile_error (error, where, "has no architecture");
      if (scmp_arch == NULL || !g_str_equal (architecture, scmp_arch))
        continue;
      json_array_add_string_element (architectures, architecture);
      for (guint j = 0; sub != NULL && sub->pdata[j] != NULL; j++)
        json_array_add_string_element (architectures, sub->pdata[j]);
      break;
    }
  *out = g_steal_pointer (&architectures);
  return TRUE;
}

JsonNode *
ctrd_seccomp_translate (JsonNode *profile_node, const CtrdSeccompTarget *target, GError **error)
{
  g_autoptr (JsonObject) out = json_object_new ();
  g_autoptr (JsonArray) architectures = NULL;
  g_autoptr (JsonArray) syscalls = json_array_new ();
  struct utsname uts;
  const char *arch, *kernel = target->kernel;
  const char *default_action = NULL;
  JsonObject *profile;
  JsonNode *list_node, *flags_node;
  gboolean has_default_errno;
  gint64 default_errno = 0;
  JsonNode *result;

  g_return_val_if_fail (profile_node != NULL && target != NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (profile_node))
    {
      profile_error (error, "the top level", "is not an object");
      return NULL;
    }
  profile = json_node_get_object (profile_node);
  arch = target->arch != NULL ? target->arch : ctrd_seccomp_native_arch ();
  if (kernel == NULL && uname (&uts) == 0)
    kernel = uts.release;

  if (!read_optional_string (profile, "defaultAction", "defaultAction", &default_action, error) ||
      !check_action (default_action, "the profile", error) ||
      !read_optional_uint (profile, "defaultErrnoRet", "defaultErrnoRet", &has_default_errno,
                           &default_errno, error) ||
      !translate_architectures (profile, arch, &architectures, error))
    return NULL;

  list_node = json_object_get_member (profile, "syscalls");
  if (list_node != NULL && !JSON_NODE_HOLDS_NULL (list_node))
    {
      JsonArray *list;

      if (!JSON_NODE_HOLDS_ARRAY (list_node))
        {
          profile_error (error, "syscalls", "is not a list");
          return NULL;
        }
      list = json_node_get_array (list_node);
      for (guint i = 0; i < json_array_get_length (list); i++)
        {
          JsonObject *syscall;

          if (!translate_entry (json_array_get_element (list, i), i, target, arch, kernel,
                                &syscall, error))
            return NULL;
          if (syscall != NULL)
            json_array_add_object_element (syscalls, syscall);
        }
    }

  json_object_set_string_member (out, "defaultAction", default_action);
  if (has_default_errno)
    json_object_set_int_member (out, "defaultErrnoRet", default_errno);
  if (json_array_get_length (architectures) > 0)
    json_object_set_array_member (out, "architectures", g_steal_pointer (&architectures));
  flags_node = json_object_get_member (profile, "flags");
  if (flags_node != NULL && !JSON_NODE_HOLDS_NULL (flags_node))
    {
      g_autoptr (GPtrArray) flags = NULL;
      JsonArray *flags_array = json_array_new ();

      if (!read_string_list (profile, "flags", "flags", &flags, error))
        {
          json_array_unref (flags_array);
          return NULL;
        }
      for (guint i = 0; flags->pdata[i] != NULL; i++)
        json_array_add_string_element (flags_array, flags->pdata[i]);
      json_object_set_array_member (out, "flags", flags_array);
    }
  json_object_set_array_member (out, "syscalls", g_steal_pointer (&syscalls));

  result = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (result, g_steal_pointer (&out));
  return result;
}

/* ---------------------------------------------------------- hardening */

#define CLONE_NEWUSER_FLAG G_GINT64_CONSTANT (0x10000000)

static JsonObject *
rule_new (const char *const *names, const char *action, gint64 errno_ret)
{
  JsonObject *rule = json_object_new ();
  JsonArray *list = json_array_new ();

  for (guint i = 0; names[i] != NULL; i++)
    json_array_add_string_element (list, names[i]);
  json_object_set_array_member (rule, "names", list);
  json_object_set_string_member (rule, "action", action);
  if (errno_ret >= 0)
    json_object_set_int_member (rule, "errnoRet", errno_ret);
  return rule;
}

/* (arg[@index] & CLONE_NEWUSER) == @value */
static void
rule_add_newuser_arg (JsonObject *rule, guint index, gint64 value)
{
  JsonArray *args = json_array_new ();
  JsonObject *arg = json_object_new ();

  json_object_set_int_member (arg, "index", index);
  json_object_set_int_member (arg, "value", CLONE_NEWUSER_FLAG);
  json_object_set_int_member (arg, "valueTwo", value);
  json_object_set_string_member (arg, "op", "SCMP_CMP_MASKED_EQ");
  json_array_add_object_element (args, arg);
  json_object_set_array_member (rule, "args", args);
}

/* Takes @names out of every entry of @syscalls; drops entries left empty. */
static void
remove_names (JsonArray *syscalls, const char *const *names)
{
  for (guint i = json_array_get_length (syscalls); i-- > 0;)
    {
      JsonObject *entry = json_array_get_object_element (syscalls, i);
      JsonArray *list = json_object_get_array_member (entry, "names");

      for (guint k = json_array_get_length (list); k-- > 0;)
        {
          const char *name = json_array_get_string_element (list, k);

          if (name != NULL && g_strv_contains (names, name))
            json_array_remove_element (list, k);
        }
      if (json_array_get_length (list) == 0)
        json_array_remove_element (syscalls, i);
    }
}

void
ctrd_seccomp_harden (JsonNode *seccomp, const CtrdSeccompTarget *target)
{
  static const char *const keyring[] = { "keyctl", "add_key", "request_key", NULL };
  static const char *const clone_calls[] = { "clone", "clone3", "unshare", NULL };
  JsonObject *object;
  JsonArray *syscalls;
  gboolean sys_admin;
  const char *arch;

  g_return_if_fail (seccomp != NULL && JSON_NODE_HOLDS_OBJECT (seccomp));
  object = json_node_get_object (seccomp);
  if (!json_object_has_member (object, "syscalls"))
    json_object_set_array_member (object, "syscalls", json_array_new ());
  syscalls = json_object_get_array_member (object, "syscalls");
  sys_admin = target->caps != NULL && g_strv_contains (target->caps, "CAP_SYS_ADMIN");
  arch = target->arch != NULL ? target->arch : ctrd_seccomp_native_arch ();

  remove_names (syscalls, keyring);
  json_array_add_object_element (syscalls, rule_new (keyring, "SCMP_ACT_ERRNO", EPERM));
  if (sys_admin)
    return;
  remove_names (syscalls, clone_calls);
  for (guint i = 0; i < 2; i++)
    {
      const char *name = i == 0 ? "unshare" : "clone";
      /* s390's clone takes the stack first and the flags second */
      guint index = i == 1 && g_strcmp0 (arch, "s390x") == 0 ? 1 : 0;
      JsonObject *allow = rule_new ((const char *const[]){ name, NULL }, "SCMP_ACT_ALLOW", -1);
      JsonObject *refuse = rule_new ((const char *const[]){ name, NULL }, "SCMP_ACT_ERRNO", EPERM);

      rule_add_newuser_arg (allow, index, 0);
      rule_add_newuser_arg (refuse, index, CLONE_NEWUSER_FLAG);
      json_array_add_object_element (syscalls, allow);
      json_array_add_object_element (syscalls, refuse);
    }
  json_array_add_object_element (
      syscalls, rule_new ((const char *const[]){ "clone3", NULL }, "SCMP_ACT_ERRNO", ENOSYS));
}

JsonNode *
ctrd_seccomp_load (const char *path, const CtrdSeccompTarget *target, GError **error)
{
  g_autofree char *quoted = ctrd_quote_untrusted (path);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GMappedFile) mapped = NULL;
  ctrd_autofd int fd = -1;
  struct stat st;
  JsonNode *translated;

  g_return_val_if_fail (path != NULL && target != NULL, NULL);

  if (!g_path_is_absolute (path))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The seccomp profile %s is not an absolute path", quoted);
      return NULL;
    }
  fd = open (path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    {
      ctrd_throw_errno_code (error,
                             errno == ENOENT ? CTRD_ERROR_NOT_FOUND : CTRD_ERROR_INVALID_ARGUMENT,
                             "Cannot open the seccomp profile %s", quoted);
      return NULL;
    }
  if (fstat (fd, &st) != 0)
    {
      ctrd_throw_errno_code (error, CTRD_ERROR_INVALID_ARGUMENT, "Cannot stat %s", quoted);
      return NULL;
    }
  /* Only what the administrator installed: a caller who could write the
   * file could loosen every container's sandbox with it. */
  if (!S_ISREG (st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
      st.st_size > MAX_PROFILE_BYTES)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The seccomp profile %s is not a regular file of at most %d bytes owned by "
                   "root and writable by root only",
                   quoted, MAX_PROFILE_BYTES);
      return NULL;
    }
  mapped = g_mapped_file_new_from_fd (fd, FALSE, &local_error);
  if (mapped == NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "Cannot read the seccomp profile %s: %s", quoted, local_error->message);
      return NULL;
    }
  if (g_mapped_file_get_length (mapped) == 0 ||
      !json_parser_load_from_data (parser, g_mapped_file_get_contents (mapped),
                                   (gssize) g_mapped_file_get_length (mapped), NULL) ||
      json_parser_get_root (parser) == NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "The seccomp profile %s is not valid JSON", quoted);
      return NULL;
    }
  translated = ctrd_seccomp_translate (json_parser_get_root (parser), target, error);
  if (translated == NULL)
    g_prefix_error (error, "%s: ", quoted);
  return translated;
}
