using System.Collections.Concurrent;
using System.Diagnostics;
using Crisp.Interop;
using Crisp.Interop.Procfs;
using Crisp.Runtime.Api;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Host;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Namespaces;

/// <summary>
/// Pod-level namespaces held by bind-mounted namespace files (as CRI-O's pinns does) instead of an infra
/// container: no pause image, no extra runtime create per pod, and the namespaces survive crispd restarts
/// because the mounts do. The files live at &lt;dir&gt;/&lt;sandbox&gt;/{net,ipc,uts,pid}. util-linux `unshare`
/// (essential on Debian) creates and pins them. A PID namespace dies with its init, so a shared pod PID
/// namespace also gets a tiny holder: `unshare --pid --fork` running a reaping sh loop as the pod's pid 1 in its
/// own session, detached from crispd; it is identified by pid and start time. A pod with its own user namespace
/// (userns_options mode POD) has it pinned first and every other namespace created inside it
/// (<see cref="UserNamespacePinning"/>).
/// </summary>
public sealed partial class PodNamespaces(string namespacesDir, ILogger<PodNamespaces> logger) : IPodNamespaces
{
    private const string HolderFile = "pid-holder";
    private static readonly TimeSpan SetupTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan HolderPinTimeout = TimeSpan.FromSeconds(5);

    /// <summary>pid 1 of the pod: reaps whatever is reparented to it and exits on SIGTERM.</summary>
    /// <remarks>
    /// The loop's child is started through a link named "pause" ($0), not as "sleep": the pod's containers see
    /// it in their shared PID namespace, and a process called sleep there confuses workloads and probes that
    /// look for their own sleeps (critest's ExecSync-timeout check runs `pgrep sleep` and expects nothing).
    /// </remarks>
    private const string HolderScript = "trap 'exit 0' TERM; while :; do \"$0\" 2147483647 & wait $!; done";
    private const string PauseLinkName = "pause";

    private readonly ConcurrentDictionary<string, Process> _holders = new(StringComparer.Ordinal);

    public string Directory => namespacesDir;

    public string SandboxDir(string sandboxId) =>
        Path.Combine(namespacesDir, State.ObjectIds.RequireFileNameSafe(sandboxId, "pod_sandbox_id"));

    public async Task<PinnedNamespaces> CreateAsync(
        string sandboxId, bool newNetwork, bool newIpc, bool newUts, bool sharedPid, string? hostname,
        UserNamespaceMappings? userNamespace, CancellationToken ct)
    {
        var dir = SandboxDir(sandboxId);
        OwnedDirectory.Ensure(dir);
        string? user = userNamespace is not null ? Path.Combine(dir, "user") : null;
        string? net = newNetwork ? Path.Combine(dir, "net") : null;
        string? ipc = newIpc ? Path.Combine(dir, "ipc") : null;
        string? uts = newUts ? Path.Combine(dir, "uts") : null;
        string? pid = sharedPid ? Path.Combine(dir, "pid") : null;
        try
        {
            if (user is not null)
                await UserNamespacePinning.PinUserNamespaceAsync(sandboxId, userNamespace!, user, ct).ConfigureAwait(false);
            if (net is not null || ipc is not null || uts is not null)
                await PinAsync(sandboxId, user, net, ipc, uts, hostname, ct).ConfigureAwait(false);
            ProcessIdentity? holder = null;
            if (pid is not null)
                holder = await StartPidHolderAsync(sandboxId, pid, user, ipc, uts, ct).ConfigureAwait(false);
            LogPinned(logger, sandboxId, user is not null, net is not null, ipc is not null, uts is not null, holder?.Pid ?? 0);
            return new PinnedNamespaces(net, ipc, uts, pid, holder) { UserPath = user };
        }
        catch
        {
            await RemoveAsync(sandboxId, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The pinned files and holder a previous run left for this sandbox (after a restart), or null.</summary>
    public PinnedNamespaces? Load(string sandboxId)
    {
        var dir = SandboxDir(sandboxId);
        if (!System.IO.Directory.Exists(dir)) return null;
        var mounts = MountTable.ReadSelf();
        string? Pinned(string name)
        {
            var p = Path.Combine(dir, name);
            return mounts.IsMountPoint(p) ? p : null;
        }
        return new PinnedNamespaces(Pinned("net"), Pinned("ipc"), Pinned("uts"), Pinned("pid"), ReadHolder(dir)) { UserPath = Pinned("user") };
    }

    /// <summary>True when the pod's PID namespace holder is still the process that was started for it.</summary>
    public bool IsPidHolderAlive(string sandboxId) => ReadHolder(SandboxDir(sandboxId)) is { } h && h.IsAlive();

    /// <summary>Unmounts (lazily) and deletes the namespace files and stops the PID holder; idempotent.</summary>
    public async Task RemoveAsync(string sandboxId, CancellationToken ct)
    {
        var dir = SandboxDir(sandboxId);
        // unshare ignores SIGTERM while waiting; SIGKILL reaches the pod's init through --kill-child (PDEATHSIG),
        // and the death of a PID namespace's init kills everything left in it.
        ReadHolder(dir)?.Signal(9);
        if (_holders.TryRemove(sandboxId, out var process))
        {
            using (process)
            {
                try { await process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(5), ct).ConfigureAwait(false); }
                catch (TimeoutException) { LogHolderSlow(logger, sandboxId); }
            }
        }
        if (!System.IO.Directory.Exists(dir)) return;
        // The user namespace last: the others belong to it (the kernel keeps it alive for them anyway).
        foreach (var name in new[] { "net", "ipc", "uts", "pid", "user" })
        {
            var path = Path.Combine(dir, name);
            // A file may have been mounted more than once if a create was retried.
            while (Libc.Unmount(path, Libc.MNT_DETACH | Libc.UMOUNT_NOFOLLOW)) { }
        }
        System.IO.Directory.Delete(dir, recursive: true);
    }

    private async Task PinAsync(string sandboxId, string? user, string? net, string? ipc, string? uts, string? hostname, CancellationToken ct)
    {
        // Runs inside the new namespaces: name the UTS namespace and bring up loopback in the network one.
        var script = "set -e; "
            // In a pod user namespace /proc/sys is only writable by the host's root; sethostname(2) checks the
            // capability in the namespace's owner instead, so the hostname tool is used there.
            + (uts is not null && !string.IsNullOrEmpty(hostname)
                ? user is null ? "printf %s \"$1\" > /proc/sys/kernel/hostname; " : "hostname \"$1\"; "
                : "")
            + (net is not null ? "if command -v ip >/dev/null 2>&1; then ip link set lo up; fi; " : "")
            + "true";
        if (user is not null)
        {
            await UserNamespacePinning.PinOwnedNamespacesAsync(sandboxId, user, net, ipc, uts, script, hostname, ct).ConfigureAwait(false);
            return;
        }
        var args = new List<string>();
        foreach (var (flag, path) in new[] { ("--net", net), ("--ipc", ipc), ("--uts", uts) })
        {
            if (path is null) continue;
            OwnedFile.Open(path, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write }, FileModes.PrivateFile).Dispose();
            args.Add($"{flag}={path}");
        }
        args.AddRange(["--", "/bin/sh", "-c", script, "crisp-pin", hostname ?? ""]);
        var unshare = ExecutableLocator.Find("unshare")
            ?? throw new RuntimeException(RuntimeErrorKind.Internal, "util-linux unshare was not found; it is needed to create pod namespaces");
        CommandResult result;
        try
        {
            result = await CommandRunner.RunAsync(unshare, args, ct, timeout: SetupTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new RuntimeException(RuntimeErrorKind.DeadlineExceeded, $"creating namespaces for pod sandbox {sandboxId}: {e.Message}", e);
        }
        if (!result.Succeeded)
            throw new RuntimeException(RuntimeErrorKind.Internal,
                $"creating namespaces for pod sandbox {sandboxId} failed (exit {result.ExitCode}): {result.ErrorText}");
    }

    /// <summary>&lt;namespaces dir&gt;/pause → the host's sleep, so the holder's idle child is named "pause".</summary>
    private string EnsurePauseLink()
    {
        var link = Path.Combine(namespacesDir, PauseLinkName);
        var sleep = ExecutableLocator.Find("sleep")
            ?? throw new RuntimeException(RuntimeErrorKind.Internal, "coreutils sleep was not found; the pod PID namespace holder needs it");
        if (new FileInfo(link).LinkTarget != sleep)
        {
            var temp = link + ".tmp";
            File.Delete(temp);
            File.CreateSymbolicLink(temp, sleep);
            File.Move(temp, link, overwrite: true);
        }
        return link;
    }

    private async Task<ProcessIdentity> StartPidHolderAsync(string sandboxId, string pidPath, string? user, string? ipc, string? uts, CancellationToken ct)
    {
        OwnedFile.Open(pidPath, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write }, FileModes.PrivateFile).Dispose();
        var unshare = ExecutableLocator.Find("unshare")
            ?? throw new RuntimeException(RuntimeErrorKind.Internal, "util-linux unshare was not found; it is needed for a shared pod PID namespace");
        var nsenter = ExecutableLocator.Find("nsenter");
        var setsid = ExecutableLocator.Find("setsid");

        // sh only to point stdio at /dev/null, so the holder never keeps crispd's output pipes open; every later
        // step execs in place, so the started pid is unshare's.
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$@\" </dev/null >/dev/null 2>&1");
        psi.ArgumentList.Add("crisp-pid-holder");
        if (setsid is not null) psi.ArgumentList.Add(setsid);
        if (user is not null || ipc is not null || uts is not null)
        {
            if (nsenter is null) throw new RuntimeException(RuntimeErrorKind.Internal, "util-linux nsenter was not found");
            psi.ArgumentList.Add(nsenter);
            if (user is not null) psi.ArgumentList.Add("--user=" + user);
            if (ipc is not null) psi.ArgumentList.Add("--ipc=" + ipc);
            if (uts is not null) psi.ArgumentList.Add("--uts=" + uts);
            psi.ArgumentList.Add("--");
        }
        // Inside a user namespace unshare may not mount on the host, so crispd pins the new PID namespace itself
        // (unshare's pid_for_children, as unshare would).
        foreach (var a in new[] { unshare, user is null ? "--pid=" + pidPath : "--pid", "--fork", "--kill-child", "/bin/sh", "-c", HolderScript, EnsurePauseLink() })
            psi.ArgumentList.Add(a);

        var process = Process.Start(psi)
            ?? throw new RuntimeException(RuntimeErrorKind.Internal, $"could not start the PID namespace holder of pod sandbox {sandboxId}");
        var identity = ProcessIdentity.Of(process.Id);
        if (identity is null)
        {
            process.Dispose();
            throw new RuntimeException(RuntimeErrorKind.Internal, $"PID namespace holder of pod sandbox {sandboxId} exited at once");
        }
        _holders[sandboxId] = process;
        await OwnedFile.WriteTextAsync(Path.Combine(SandboxDir(sandboxId), HolderFile), identity.Value.ToString(), FileModes.PrivateFile, ct).ConfigureAwait(false);

        var deadline = DateTime.UtcNow + HolderPinTimeout;
        while (!MountTable.ReadSelf().IsMountPoint(pidPath))
        {
            if (user is not null && PidNamespaceCreated(identity.Value.Pid))
            {
                Libc.Mount(ProcFile.OfProcess(identity.Value.Pid, "ns/pid_for_children"), pidPath, null, Libc.MS_BIND, null);
                continue;
            }
            if (process.HasExited)
                throw new RuntimeException(RuntimeErrorKind.Internal,
                    $"PID namespace holder of pod sandbox {sandboxId} exited with {process.ExitCode} before pinning {pidPath}");
            if (DateTime.UtcNow > deadline)
                throw new RuntimeException(RuntimeErrorKind.DeadlineExceeded,
                    $"PID namespace holder of pod sandbox {sandboxId} did not pin {pidPath} within {HolderPinTimeout.TotalSeconds:0}s");
            await Task.Delay(5, ct).ConfigureAwait(false);
        }
        return identity.Value;
    }

    private static bool PidNamespaceCreated(int unsharePid)
    {
        try { return UserNamespacePinning.HasOwnNamespace(unsharePid, "ns/pid_for_children"); }
        catch (IOException) { return false; }
    }

    private static ProcessIdentity? ReadHolder(string dir)
    {
        try { return ProcessIdentity.Parse(File.ReadAllText(Path.Combine(dir, HolderFile))); }
        catch (IOException) { return null; }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pinned namespaces of pod sandbox {SandboxId}: user {User}, net {Net}, ipc {Ipc}, uts {Uts}, pid holder {HolderPid}")]
    private static partial void LogPinned(ILogger logger, string sandboxId, bool user, bool net, bool ipc, bool uts, int holderPid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "PID namespace holder of pod sandbox {SandboxId} did not exit within 5s of SIGKILL")]
    private static partial void LogHolderSlow(ILogger logger, string sandboxId);
}
