using Crisp.Interop;
using Crisp.Runtime.Api;
using Crisp.Runtime.Cgroups;
using Crisp.Server.Commands;
using Crisp.Server.Config;
using Crisp.Server.Hosting;
using Crisp.Server.Telemetry;

namespace Crisp.Server;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // First of all: SIGHUP's default action would end a crispd that `systemctl reload` reaches while it starts.
        using var sighup = SighupSignal.Catch();
        // Before anything is created: whatever gets no explicit mode is root's alone (docs: "Security model").
        Libc.SetUmask(FileModes.DaemonUmask);
        // Before any child process: runc must not inherit systemd's NOTIFY_SOCKET.
        var readiness = SystemdReadiness.TakeFromEnvironment();
        CrispConfig config;
        CommandLine commandLine;
        var check = args.Length > 0 && args[0] == CheckCommand.Name;
        try
        {
            commandLine = ConfigLoader.ParseCommandLine(check ? args[1..] : args);
            if (commandLine.ShowHelp) { Console.Out.Write(ConfigDocumentation.Help()); return 0; }
            if (commandLine.PrintDefaultConfig) { Console.Out.Write(ConfigDocumentation.DefaultToml()); return 0; }
            if (commandLine.ShowVersion) { Console.Out.WriteLine($"crispd {DaemonVersion.Version}"); return 0; }
            config = ConfigLoader.Load(commandLine);
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"crispd: invalid configuration: {e.Message}");
            return 2;
        }

        if (check) return await CheckCommand.RunAsync(config, Console.Out, CancellationToken.None);

        try
        {
            CgroupManagerFactory.RequireUsableDriver(config.RuntimeCgroupDriver);
        }
        catch (RuntimeException e)
        {
            await Console.Error.WriteLineAsync($"crispd: cannot start: {e.Message}");
            return 1;
        }

        try
        {
            OwnedDirectory.Ensure(config.Root);
            OwnedDirectory.Ensure(config.StateDir);
        }
        catch (IOException e)
        {
            await Console.Error.WriteLineAsync($"crispd: cannot prepare root {config.Root} and state_dir {config.StateDir}: {e.Message}");
            return 1;
        }

        try
        {
            SocketPreparation.Prepare(config.GrpcSocket);
        }
        catch (IOException e)
        {
            await Console.Error.WriteLineAsync($"crispd: cannot listen on {config.GrpcSocket}: {e.Message}");
            return 1;
        }

        var app = DaemonHost.Build(config, commandLine, readiness, sighup);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            SocketPreparation.RestrictPermissions(config.GrpcSocket);
            readiness.NotifyReady(config.GrpcSocket, app.Logger);
        });
        app.Lifetime.ApplicationStopping.Register(readiness.NotifyStopping);
        await app.RunAsync();
        return 0;
    }
}
