/* ctrd-selinux.c: container labels from the policy's lxc_contexts. */
#include "config.h"

#include <string.h>

#ifdef HAVE_SELINUX
#include <selinux/selinux.h>
#endif

#include "ctrd-error.h"
#include "ctrd-selinux.h"

gboolean
ctrd_selinux_enabled (void)
{
#ifdef HAVE_SELINUX
  return is_selinux_enabled () > 0;
#else
  return FALSE;
#endif
}

char *
ctrd_selinux_with_level (const char *context, const char *level)
{
  /* user:role:type:level — the level may itself hold ':' (s0:c1,c2). */
  g_auto (GStrv) parts = g_strsplit (context, ":", 4);

  if (g_strv_length (parts) < 3)
    return g_strdup (context);
  return g_strdup_printf ("%s:%s:%s:%s", parts[0], parts[1], parts[2], level);
}

#ifdef HAVE_SELINUX
/* `key = "value"` lines of lxc_contexts. */
static char *
lxc_context (const char *text, const char *key)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *line = g_strstrip (g_strdup (lines[i]));
      char *eq = strchr (line, '=');
      if (line[0] == '#' || eq == NULL)
        continue;
      *eq = '\0';
      if (!g_str_equal (g_strstrip (line), key))
        continue;
      return g_strdup (g_strstrip (g_strdelimit (eq + 1, "\"", ' ')));
    }
  return NULL;
}
#endif

gboolean
ctrd_selinux_container_labels (char **out_process_label, char **out_mount_label, GError **error)
{
  *out_process_label = NULL;
  *out_mount_label = NULL;
#ifdef HAVE_SELINUX
  if (!ctrd_selinux_enabled ())
    return TRUE;

  const char *path = selinux_lxc_contexts_path ();
  g_autofree char *text = NULL;
  g_autofree char *process = NULL;
  g_autofree char *file = NULL;
  g_autofree char *level = NULL;
  guint32 c1, c2;

  if (path == NULL || !g_file_get_contents (path, &text, NULL, NULL))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED,
                   "SELinux is enabled but its container contexts (%s) cannot be read",
                   path != NULL ? path : "lxc_contexts");
      return FALSE;
    }
  process = lxc_context (text, "process");
  file = lxc_context (text, "file");
  if (process == NULL || file == NULL)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_FAILED,
                   "SELinux is enabled but %s names no process or file context", path);
      return FALSE;
    }
  /* Like libpod: two distinct categories out of 1024 per container. */
  c1 = g_random_int_range (0, 1024);
  do
    c2 = g_random_int_range (0, 1024);
  while (c2 == c1);
  level = g_strdup_printf ("s0:c%u,c%u", MIN (c1, c2), MAX (c1, c2));
  *out_process_label = ctrd_selinux_with_level (process, level);
  *out_mount_label = ctrd_selinux_with_level (file, level);
#endif
  return TRUE;
}
