/* ctl-security.c: the sandbox options of create and run, as podman has
 * them: --cap-add, --cap-drop, --privileged and --security-opt (seccomp=
 * and no-new-privileges), mapped to CreateContainer's CapAdd, CapDrop,
 * Privileged, SeccompProfile and NoNewPrivileges. The daemon checks the
 * capability names and the profile; what needs host access is its polkit
 * question, not ours. */
#include "config.h"

#include <string.h>

#include "ctl.h"

void
security_options_clear (SecurityOptions *options)
{
  g_strfreev (options->cap_add);
  g_strfreev (options->cap_drop);
  g_strfreev (options->security_opts);
}

/* podman's capability lists: the option may be given many times, each a
 * comma-separated list ("--cap-drop CHOWN,KILL"). */
static gboolean
add_capabilities (const char *option, const char *key, char **values, GVariantBuilder *builder)
{
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  g_auto (GStrv) strv = NULL;

  for (guint i = 0; values[i] != NULL; i++)
    {
      g_auto (GStrv) parts = g_strsplit (values[i], ",", -1);

      if (parts[0] == NULL)
        {
          usage_error ("%s \"\": an empty capability name", option);
          return FALSE;
        }

      for (guint k = 0; parts[k] != NULL; k++)
        {
          g_strstrip (parts[k]);
          if (*parts[k] == '\0')
            {
              usage_error ("%s \"%s\": an empty capability name", option, values[i]);
              return FALSE;
            }
          g_strv_builder_add (names, parts[k]);
        }
    }
  strv = g_strv_builder_end (names);
  g_variant_builder_add (builder, "{sv}", key,
                         g_variant_new_strv ((const char *const *) strv, -1));
  return TRUE;
}

/* no-new-privileges, no-new-privileges=true|false (":" as docker has it). */
static gboolean
parse_no_new_privileges (const char *opt, gboolean *value)
{
  static const char name[] = "no-new-privileges";
  const char *rest;

  if (!g_str_has_prefix (opt, name))
    return FALSE;
  rest = opt + strlen (name);
  if (*rest == '\0')
    *value = TRUE;
  else if ((*rest == '=' || *rest == ':') && g_str_equal (rest + 1, "true"))
    *value = TRUE;
  else if ((*rest == '=' || *rest == ':') && g_str_equal (rest + 1, "false"))
    *value = FALSE;
  else
    return FALSE;
  return TRUE;
}

gboolean
build_security_options (const SecurityOptions *options, GVariantBuilder *builder)
{
  const char *seccomp = NULL;
  gboolean no_new_privileges = FALSE, nnp_given = FALSE;

  if (options->privileged)
    g_variant_builder_add (builder, "{sv}", "Privileged", g_variant_new_boolean (TRUE));
  if (options->cap_add != NULL &&
      !add_capabilities ("--cap-add", "CapAdd", options->cap_add, builder))
    return FALSE;
  if (options->cap_drop != NULL &&
      !add_capabilities ("--cap-drop", "CapDrop", options->cap_drop, builder))
    return FALSE;
  for (guint i = 0; options->security_opts != NULL && options->security_opts[i] != NULL; i++)
    {
      const char *opt = options->security_opts[i];

      if (g_str_has_prefix (opt, "seccomp=") || g_str_has_prefix (opt, "seccomp:"))
        {
          seccomp = opt + strlen ("seccomp=");
          /* the daemon reads the profile, at each Start: a path of ours
           * relative to our directory would mean nothing to it */
          if (!g_str_equal (seccomp, "unconfined") && !g_str_equal (seccomp, "default") &&
              !g_path_is_absolute (seccomp))
            {
              usage_error ("--security-opt \"%s\": use seccomp=unconfined or the absolute path "
                           "of a profile file (the daemon reads it)",
                           opt);
              return FALSE;
            }
        }
      else if (parse_no_new_privileges (opt, &no_new_privileges))
        nnp_given = TRUE;
      else
        {
          usage_error ("--security-opt \"%s\": not supported (only seccomp=unconfined|PATH and "
                       "no-new-privileges)",
                       opt);
          return FALSE;
        }
    }
  if (seccomp != NULL)
    g_variant_builder_add (builder, "{sv}", "SeccompProfile", g_variant_new_string (seccomp));
  if (nnp_given)
    g_variant_builder_add (builder, "{sv}", "NoNewPrivileges",
                           g_variant_new_boolean (no_new_privileges));
  return TRUE;
}
