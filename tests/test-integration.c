/* test-integration.c: containersd as its clients see it, one GTest program
 * of the cases in tests/integration-*.c on the fixture of
 * tests/integration-common.c (its header says how a case runs). */
#include "config.h"

#include "integration-common.h"

int
main (int argc, char **argv)
{
  integration_init (&argc, &argv);

  /* The order of registration is the order the suites run in, and decides
   * which cases import busybox by path (every second one) or through an fd. */
  integration_add_manager_cases ();
  integration_add_container_cases ();
  integration_add_daemon_cases ();
  integration_add_bad_request_cases ();
  integration_add_lifecycle_cases ();
  integration_add_io_cases ();
  integration_add_files_cases ();
  integration_add_dependencies_cases ();
  integration_add_bad_operation_cases ();
  integration_add_monitor_cases ();

  return integration_run ();
}
