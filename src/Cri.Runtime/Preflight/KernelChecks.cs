using System.Globalization;
using Crisp.Interop.Procfs;
using Crisp.Runtime.Host;

namespace Crisp.Runtime.Preflight;

/// <summary>What the kernel and crispd's own process offer: privileges, cgroups, overlayfs, idmapped mounts, seccomp, LSMs, oom_score_adj.</summary>
internal static class KernelChecks
{
    private static readonly string[] RequiredControllers = ["cpu", "memory"];
    private static readonly string[] WantedControllers = ["pids", "cpuset"];
    /// <summary>overlayfs accepts idmapped lower layers from 5.19; idmapped mounts themselves came in 5.12.</summary>
    private static readonly Version IdmappedOverlay = new(5, 19);

    public static PreflightItem Privileges(PreflightHost host) => host.EffectiveUid == 0
        ? PreflightItem.Ok("privileges", "running as root")
        : PreflightItem.Missing("privileges", $"running as uid {host.EffectiveUid}; crispd mounts, creates cgroups and runs runc as root",
            "run crispd (and crispd check) as root");

    public static IEnumerable<PreflightItem> Cgroups(PreflightHost host, string cgroupDriver)
    {
        var layout = CgroupLayoutDetector.Detect(host.Paths.CgroupRoot);
        var controllers = layout == CgroupLayout.Unified
            ? ReadWords(Path.Combine(host.Paths.CgroupRoot, "cgroup.controllers"))
            : EnabledV1Controllers(host.ProcCgroups);
        var version = layout switch
        {
            CgroupLayout.Unified => "cgroup v2",
            CgroupLayout.Hybrid => $"cgroup v1 (hybrid: v2 at {Path.Combine(host.Paths.CgroupRoot, "unified")})",
            _ => "cgroup v1",
        };
        var missing = RequiredControllers.Where(c => !controllers.Contains(c)).ToList();
        var absent = WantedControllers.Where(c => !controllers.Contains(c)).ToList();
        var detail = $"{version}, controllers: {string.Join(' ', controllers.Order(StringComparer.Ordinal))}";
        if (missing.Count > 0)
            yield return PreflightItem.Missing("cgroups", $"{detail}; missing {string.Join(", ", missing)}",
                $"enable the {string.Join(" and ", missing)} controller (e.g. cgroup_enable=memory on the kernel command line)");
        else if (absent.Count > 0)
            yield return PreflightItem.Degraded("cgroups", $"{detail}; no {string.Join(", ", absent)} (their pod limits are not applied)",
                $"enable the {string.Join(", ", absent)} controller in the kernel");
        else
            yield return PreflightItem.Ok("cgroups", detail);

        if (cgroupDriver == "systemd" && !Directory.Exists(host.SystemdRunDir))
            yield return PreflightItem.Missing("cgroup driver", "runtime.cgroup_driver is systemd but systemd is not the init system here",
                "set runtime.cgroup_driver = \"cgroupfs\" (and the kubelet's cgroupDriver to match)");
        else
            yield return PreflightItem.Ok("cgroup driver", cgroupDriver);
    }

    public static PreflightItem Overlay(PreflightHost host)
    {
        var filesystems = ProcFile.TryReadText(host.ProcFilesystems) ?? "";
        if (filesystems.Split('\n').Any(line => line.Split('\t').LastOrDefault()?.Trim() == "overlay"))
            return PreflightItem.Ok("overlayfs", "overlay is registered in the kernel");
        return Directory.Exists(host.OverlayModuleDir)
            ? PreflightItem.Ok("overlayfs", "the overlay module is not loaded yet; the kernel loads it on the first mount")
            : PreflightItem.Missing("overlayfs", "the kernel has no overlay filesystem; crisp unpacks images into overlayfs snapshots",
                "modprobe overlay, or use a kernel built with CONFIG_OVERLAY_FS");
    }

    public static PreflightItem IdmappedMounts(PreflightHost host)
    {
        var release = ProcFile.TryReadText(host.KernelRelease)?.Trim() ?? "";
        var version = ParseKernelVersion(release);
        if (version is null)
            return PreflightItem.Degraded("idmapped mounts", $"cannot tell from kernel release \"{release}\"", "check that the kernel is 5.19 or later");
        return version >= IdmappedOverlay
            ? PreflightItem.Ok("idmapped mounts", $"kernel {release} idmaps overlayfs layers (pod user namespaces)")
            : PreflightItem.Degraded("idmapped mounts", $"kernel {release} cannot idmap overlayfs layers: pods with hostUsers: false cannot run",
                "use a 5.19 or later kernel for pod user namespaces");
    }

    public static PreflightItem Seccomp(PreflightHost host) => HostFeatureDetector.Detect(host.Paths).SeccompEnabled
        ? PreflightItem.Ok("seccomp", "seccomp filters are available (RuntimeDefault and Localhost profiles)")
        : PreflightItem.Degraded("seccomp", "the kernel has no seccomp filter mode: pods asking for a seccomp profile are refused",
            "use a kernel built with CONFIG_SECCOMP_FILTER");

    public static PreflightItem Lsm(PreflightHost host)
    {
        if (host.AppArmor.Enabled) return PreflightItem.Ok("AppArmor/SELinux", "AppArmor is enabled: RuntimeDefault applies crisp-default");
        if (host.Selinux.Enabled)
            return host.Selinux.ContainerContexts is null
                ? PreflightItem.Degraded("AppArmor/SELinux", "SELinux is enabled but the policy has no container contexts (lxc_contexts): pods run without labels",
                    "install a policy with container types (container-selinux)")
                : PreflightItem.Ok("AppArmor/SELinux", "SELinux is enabled: each pod gets its own MCS level");
        return PreflightItem.Degraded("AppArmor/SELinux", "neither is enabled: RuntimeDefault runs unconfined and named AppArmor profiles are refused",
            "boot with apparmor=1 security=apparmor and install apparmor (apparmor_parser) if pods need profiles");
    }

    public static PreflightItem OomScoreAdj(PreflightHost host)
    {
        var floor = HostFeatureDetector.Detect(host.Paths).MinOomScoreAdj;
        return floor == -1000
            ? PreflightItem.Ok("oom_score_adj", "CAP_SYS_RESOURCE: containers can get any oom_score_adj (-997 for guaranteed pods)")
            : PreflightItem.Degraded("oom_score_adj",
                $"no CAP_SYS_RESOURCE: oom_score_adj cannot go below {floor.ToString(CultureInfo.InvariantCulture)}, so lower scores (guaranteed pods' -997) are raised to it",
                "run crispd with CAP_SYS_RESOURCE (as root on the host, not inside a restricted container)");
    }

    internal static Version? ParseKernelVersion(string release)
    {
        var numbers = release.Split('.', '-', '+').Take(2).ToArray();
        return numbers.Length == 2
               && int.TryParse(numbers[0], CultureInfo.InvariantCulture, out var major)
               && int.TryParse(numbers[1], CultureInfo.InvariantCulture, out var minor)
            ? new Version(major, minor)
            : null;
    }

    private static HashSet<string> ReadWords(string path) =>
        new((ProcFile.TryReadText(path) ?? "").Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);

    /// <summary>/proc/cgroups: subsys_name, hierarchy, num_cgroups, enabled; a v1 controller is usable when mounted (hierarchy &gt; 0) and enabled.</summary>
    private static HashSet<string> EnabledV1Controllers(string procCgroups)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in (ProcFile.TryReadText(procCgroups) ?? "").Split('\n'))
        {
            if (line.StartsWith('#')) continue;
            var fields = line.Split('\t', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 4 && fields[1] != "0" && fields[3] == "1") result.Add(fields[0]);
        }
        return result;
    }
}
