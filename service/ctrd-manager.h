/* ctrd-manager.h: org.example.Containers1.Manager at /org/example/Containers1. */
#pragma once

#include "ctrd-daemon.h"

G_BEGIN_DECLS

#define CTRD_TYPE_MANAGER (ctrd_manager_get_type ())
G_DECLARE_FINAL_TYPE (CtrdManager, ctrd_manager, CTRD, MANAGER, CtrManagerSkeleton)

CtrdManager *ctrd_manager_new (CtrdDaemon *daemon);

G_END_DECLS
