/*
 * The scenarios guest-runner knows. Each loads its guest image (the path
 * from the command line), runs it and checks the host-side facts. Returns
 * RUNNER_PASS when it ran to the end (the verdict then comes from the
 * checks), RUNNER_SKIP, or RUNNER_FAIL when it had to give up early.
 */
#ifndef RUNNER_SCENARIOS_H
#define RUNNER_SCENARIOS_H

int scenario_pio(const char *image);
int scenario_mmio(const char *image);
int scenario_longmode(const char *image);
int scenario_hlt(const char *image);
int scenario_shutdown(const char *image);
int scenario_stop(const char *image);
int scenario_rom(const char *image);
int scenario_smp(const char *image);
int scenario_multivm(const char *image);
int scenario_msi(const char *image);

#endif /* RUNNER_SCENARIOS_H */
