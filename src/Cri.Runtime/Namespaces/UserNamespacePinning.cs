using System.Diagnostics;
using Crisp.Interop;
using Crisp.Interop.Procfs;
using Crisp.Runtime.Api;
using Crisp.Runtime.Handlers;

namespace Crisp.Runtime.Namespaces;

/// <summary>
/// A pod user namespace and the namespaces it owns. The user namespace is created first, by a placeholder
/// `unshare --user sleep` whose uid_map/gid_map crispd (root in the initial namespace, so any mapping is allowed)
/// writes before pinning /proc/&lt;pid&gt;/ns/user with a bind mount. The pod's network, IPC and UTS namespaces are
/// then created from inside it (`nsenter --user` + `unshare`), so the user namespace owns them: a container root
/// may then mount sysfs and mqueue, set the hostname and configure its network. Those are pinned by crispd too,
/// because a process inside the user namespace has no right to mount in the host's mount namespace.
/// </summary>
internal static class UserNamespacePinning
{
    private static readonly TimeSpan SetupTimeout = TimeSpan.FromSeconds(20);

    public static async Task PinUserNamespaceAsync(string sandboxId, UserNamespaceMappings mappings, string userPath, CancellationToken ct)
    {
        var unshare = Require("unshare");
        var sleep = Require("sleep");
        using var placeholder = Start(unshare, ["--user", "--", sleep, "2147483647"], redirectIo: false, sandboxId);
        try
        {
            await WaitForOwnNamespaceAsync(placeholder, "ns/user", sandboxId, ct).ConfigureAwait(false);
            WriteMap(placeholder.Id, "uid_map", mappings.UidMapText, sandboxId);
            WriteMap(placeholder.Id, "gid_map", mappings.GidMapText, sandboxId);
            Pin(ProcFile.OfProcess(placeholder.Id, "ns/user"), userPath);
        }
        finally
        {
            await StopAsync(placeholder).ConfigureAwait(false);
        }
    }

    /// <summary>Creates the requested namespaces owned by the pinned user namespace, runs the setup script in them and pins them.</summary>
    public static async Task PinOwnedNamespacesAsync(
        string sandboxId, string userPath, string? net, string? ipc, string? uts, string setupScript, string? hostname, CancellationToken ct)
    {
        var args = new List<string> { "--user=" + userPath, "--", Require("unshare") };
        if (net is not null) args.Add("--net");
        if (ipc is not null) args.Add("--ipc");
        if (uts is not null) args.Add("--uts");
        // After the setup the shell says so and waits on stdin, so its namespaces live until they are pinned.
        args.AddRange(["--", "/bin/sh", "-c", setupScript + "; echo ready; read _", "crisp-pin", hostname ?? ""]);
        using var process = Start(Require("nsenter"), args, redirectIo: true, sandboxId);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(SetupTimeout);
            string? line;
            try { line = await process.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new RuntimeException(RuntimeErrorKind.DeadlineExceeded,
                    $"creating namespaces for pod sandbox {sandboxId} inside its user namespace took more than {SetupTimeout.TotalSeconds:0}s");
            }
            if (line != "ready")
            {
                var error = await process.StandardError.ReadToEndAsync(ct).ConfigureAwait(false);
                throw new RuntimeException(RuntimeErrorKind.Internal,
                    $"creating namespaces for pod sandbox {sandboxId} inside its user namespace failed: {error.Trim()}");
            }
            foreach (var (kind, path) in new[] { ("net", net), ("ipc", ipc), ("uts", uts) })
                if (path is not null) Pin(ProcFile.OfProcess(process.Id, "ns/" + kind), path);
        }
        finally
        {
            await StopAsync(process).ConfigureAwait(false);
        }
    }

    /// <summary>Bind-mounts a namespace file (of a live process) onto <paramref name="target"/>, creating it 0600.</summary>
    public static void Pin(string namespaceFile, string target)
    {
        OwnedFile.Open(target, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write }, FileModes.PrivateFile).Dispose();
        Libc.Mount(namespaceFile, target, null, Libc.MS_BIND, null);
    }

    /// <summary>True once <paramref name="process"/> is in a namespace of that kind other than crispd's own.</summary>
    public static bool HasOwnNamespace(int pid, string nsName)
    {
        var own = new FileInfo(ProcFile.OfProcess(Environment.ProcessId, nsName)).LinkTarget;
        var its = new FileInfo(ProcFile.OfProcess(pid, nsName)).LinkTarget;
        return its is not null && its != own;
    }

    private static async Task WaitForOwnNamespaceAsync(Process process, string nsName, string sandboxId, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + SetupTimeout;
        while (true)
        {
            try
            {
                if (HasOwnNamespace(process.Id, nsName)) return;
            }
            catch (IOException) { }
            if (process.HasExited)
                throw new RuntimeException(RuntimeErrorKind.Internal,
                    $"unshare --user for pod sandbox {sandboxId} exited with {process.ExitCode} before creating the user namespace");
            if (DateTime.UtcNow > deadline)
                throw new RuntimeException(RuntimeErrorKind.DeadlineExceeded,
                    $"unshare --user for pod sandbox {sandboxId} did not create the user namespace within {SetupTimeout.TotalSeconds:0}s");
            await Task.Delay(2, ct).ConfigureAwait(false);
        }
    }

    private static void WriteMap(int pid, string file, string text, string sandboxId)
    {
        try
        {
            File.WriteAllText(ProcFile.OfProcess(pid, file), text);
        }
        catch (IOException e)
        {
            throw new RuntimeException(RuntimeErrorKind.Internal, $"writing {file} \"{text.Trim()}\" of pod sandbox {sandboxId}'s user namespace: {e.Message}", e);
        }
    }

    private static Process Start(string file, IEnumerable<string> args, bool redirectIo, string sandboxId)
    {
        var psi = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = redirectIo,
            RedirectStandardError = redirectIo,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)
            ?? throw new RuntimeException(RuntimeErrorKind.Internal, $"could not start {file} for pod sandbox {sandboxId}'s namespaces");
    }

    private static async Task StopAsync(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (InvalidOperationException) { }
        catch (TimeoutException) { }
    }

    private static string Require(string tool) => ExecutableLocator.Find(tool)
        ?? throw new RuntimeException(RuntimeErrorKind.Internal, $"util-linux/coreutils {tool} was not found; it is needed for pod user namespaces");
}
