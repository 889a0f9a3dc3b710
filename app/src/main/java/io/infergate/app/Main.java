package io.infergate.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code infergate} command line. */
@Command(name = "infergate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Reactive TensorFlow model serving, compatible with TensorFlow Serving.",
    subcommands = {ServeCommand.class, GatewayCommand.class, WorkerCommand.class, DemoCommand.class,
        TrainDemoCommand.class, FeaturesCommand.class, ClassArchiveRunCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand");
  }

  public static void main(String[] args) {
    // JavaCPP (under TF Java) refuses native allocations once the process's RSS passes a multiple
    // of the heap, and reads the RSS on every tensor it makes. TensorFlow's memory is bounded by
    // the container and the GPU options instead, so its own accounting stays off unless asked for.
    for (String limit : new String[] {"org.bytedeco.javacpp.maxBytes", "org.bytedeco.javacpp.maxPhysicalBytes"}) {
      if (System.getProperty(limit) == null) {
        System.setProperty(limit, "0");
      }
    }
    System.exit(new CommandLine(new Main()).execute(args));
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Main.class.getPackage().getImplementationVersion();
      return new String[] {"infergate " + (version == null ? "dev" : version)};
    }
  }
}
