/**
 * What the command line uses of the library, loaded when a command runs
 * rather than at start-up: `--help`, `--version` and usage errors never load
 * it (nor Dawn).
 */
export async function loadLibrary() {
  const [device, runtime, mnist, registry, runner, report, overrides, exporting] = await Promise.all([
    import('../../src/gpu/device.js'),
    import('../../src/gpu/runtime.js'),
    import('../../src/data/mnist.js'),
    import('../../src/experiments/registry.js'),
    import('../../src/experiments/runner.js'),
    import('../../src/report/index.js'),
    import('../../src/experiments/overrides.js'),
    import('./export-run.js'),
  ]);
  return {
    createRuntime: device.createRuntime,
    DeviceLostError: runtime.DeviceLostError,
    loadMnist: mnist.loadMnist,
    EXPERIMENTS: registry.EXPERIMENTS,
    selectExperiments: registry.selectExperiments,
    describeQuick: runner.describeQuick,
    runExperiment: runner.runExperiment,
    ResumeMismatchError: runner.ResumeMismatchError,
    RunInterruptedError: runner.RunInterruptedError,
    markdownSummary: report.markdownSummary,
    pointsDifference: report.pointsDifference,
    writeReport: report.writeReport,
    withSettings: overrides.withSettings,
    limitImages: overrides.limitImages,
    ignoredByClassic: overrides.ignoredByClassic,
    parseExportFormats: exporting.parseExportFormats,
    exportTrained: exporting.exportTrained,
  };
}

export type Library = Awaited<ReturnType<typeof loadLibrary>>;
