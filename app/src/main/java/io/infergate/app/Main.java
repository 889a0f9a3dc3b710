package io.infergate.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code infergate} command line. */
@Command(name = "infergate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Reactive TensorFlow model serving, compatible with TensorFlow Serving.",
    subcommands = {ServeCommand.class, GatewayCommand.class, WorkerCommand.class, DemoCommand.class,
        TrainDemoCommand.class, FeaturesCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand");
  }

  public static void main(String[] args) {
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
