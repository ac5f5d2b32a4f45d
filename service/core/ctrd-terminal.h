/* ctrd-terminal.h: pseudo-terminals for processes in containers, the unix
 * socket a client without fd passing reaches one through, and the relay
 * between a terminal and its client. No D-Bus types. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A new pseudo-terminal of @rows x @columns: the master (non-blocking) in
 * @out_master, the slave in @out_slave (neither the daemon's controlling
 * terminal), both close-on-exec. FALSE with @error otherwise. */
gboolean ctrd_terminal_open (guint16 rows, guint16 columns, int *out_master, int *out_slave,
                             GError **error);

/* Sets the size of the terminal of @fd (master or slave); the kernel sends
 * SIGWINCH to its foreground process group. */
gboolean ctrd_terminal_set_size (int fd, guint16 rows, guint16 columns, GError **error);

/* A listening unix stream socket in @dir (made 0711 if missing) that only
 * @uid (and root) can connect to: bound in a private directory, given to
 * @uid with mode 0600, then moved into @dir under a random name, so that no
 * one else ever sees it open. Returns the non-blocking listening fd and its
 * path in @out_path (free with g_free), or -1 with @error. */
int ctrd_terminal_listen (const char *dir, guint32 uid, char **out_path, GError **error);

/* Accepts one connection on @listen_fd (non-blocking). Returns its fd
 * (blocking, close-on-exec), or -1 with G_IO_ERROR_WOULD_BLOCK when none is
 * waiting or G_IO_ERROR_PERMISSION_DENIED when the peer is neither @uid nor
 * root (that connection is closed). */
int ctrd_terminal_accept (int listen_fd, guint32 uid, GError **error);

typedef enum
{
  CTRD_RELAY_TERMINAL_CLOSED, /* the terminal's last process closed it; all relayed */
  CTRD_RELAY_CLIENT_GONE,     /* the client's input ended (socket) or output failed */
  CTRD_RELAY_STOPPED,         /* ctrd_terminal_relay_stop */
} CtrdRelayEnd;

typedef struct _CtrdTerminalRelay CtrdTerminalRelay;

/* Called once, on the main context that started the relay, when it ended;
 * the relay is freed after it returns. */
typedef void (*CtrdRelayDoneFunc) (CtrdRelayEnd end, gpointer user_data);

typedef enum
{
  CTRD_RELAY_FLAGS_NONE = 0,
  /* the client is one socket: the end of its input means it left */
  CTRD_RELAY_CLIENT_SOCKET = 1 << 0,
  /* the terminal side is conmon's attach socket (SOCK_SEQPACKET): each
   * message from it starts with a byte naming the stream, which is dropped */
  CTRD_RELAY_CONMON_ATTACH = 1 << 1,
} CtrdRelayFlags;

/* At most this many relays run at once (each holds a thread). */
#define CTRD_TERMINAL_MAX_RELAYS 64

/* Starts a thread that copies @in_fd to the terminal @master_fd and the
 * terminal to @out_fd (@in_fd and @out_fd are taken and closed at the end,
 * also on failure; they may be the two ends of one socket, dup'ed).
 * @master_fd is borrowed: keep it open until @done ran. Buffers are bounded
 * (a slow reader holds up the terminal, never the daemon's memory). Without
 * CTRD_RELAY_CLIENT_SOCKET the end of @in_fd only ends the input. NULL with
 * LimitExceeded when too many relays run. */
CtrdTerminalRelay *ctrd_terminal_relay_start (int master_fd, int in_fd, int out_fd,
                                              CtrdRelayFlags flags, CtrdRelayDoneFunc done,
                                              gpointer user_data, GError **error);

/* Asks the relay to end (@done still runs, with CTRD_RELAY_STOPPED unless
 * it ended already). Main thread, before @done ran. */
void ctrd_terminal_relay_stop (CtrdTerminalRelay *relay);

G_END_DECLS
