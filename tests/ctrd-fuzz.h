/* ctrd-fuzz.h: what the libFuzzer targets (tests/fuzz-*.c) share.
 *
 * Each target is a function ctrd_fuzz_NAME (data, size). Built for libFuzzer
 * (configure --enable-fuzzing) CTRD_FUZZ_ENTRY makes it the binary's
 * LLVMFuzzerTestOneInput; built with CTRD_FUZZ_REPLAY (tests/test-fuzz-replay,
 * an ordinary unit test) it adds nothing, and the replay test calls each
 * target on the inputs kept under tests/fuzz-corpus/NAME/. A violated
 * contract aborts (g_assert*), which libFuzzer reports as a crash. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

G_BEGIN_DECLS

int ctrd_fuzz_names (const uint8_t *data, size_t size);
int ctrd_fuzz_options (const uint8_t *data, size_t size);
int ctrd_fuzz_import (const uint8_t *data, size_t size);
/* Removes the import target's temporary repository (also done at exit). */
void ctrd_fuzz_import_cleanup (void);

#ifdef CTRD_FUZZ_REPLAY
#define CTRD_FUZZ_ENTRY(func)
#else
/* Info and debug lines for every input would drown libFuzzer's output. */
static inline GLogWriterOutput
ctrd_fuzz_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                      gpointer user_data)
{
  if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG))
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, fields, n_fields, user_data);
}

#define CTRD_FUZZ_ENTRY(func)                                                                      \
  int LLVMFuzzerInitialize (int *argc, char ***argv);                                              \
  int LLVMFuzzerInitialize (int *argc, char ***argv)                                               \
  {                                                                                                \
    g_log_set_writer_func (ctrd_fuzz_log_writer, NULL, NULL);                                      \
    return 0;                                                                                      \
  }                                                                                                \
  int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);                                   \
  int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)                                    \
  {                                                                                                \
    return func (data, size);                                                                      \
  }
#endif

G_END_DECLS
