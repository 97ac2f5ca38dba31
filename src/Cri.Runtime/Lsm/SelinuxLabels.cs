using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Lsm;

/// <summary>
/// SELinux labels for pods and containers where the host enforces SELinux (go-selinux's InitLabels, as containerd
/// and CRI-O use it): each pod gets an MCS level, unique among live pods unless its selinux_options.level names one;
/// a container's process label is the policy's container label (lxc_contexts "process") with the pod's and then the
/// container's user/role/type/level applied, and its mount label the policy's file label with that user and level.
/// Privileged containers get no process label (they run in the runtime's domain) but keep the mount label.
/// Volumes are not relabeled. Without SELinux, selinux_options are ignored (debug log), as containerd does.
/// </summary>
public sealed partial class SelinuxLabels(ISelinuxHost host, McsLevels levels, ILogger<SelinuxLabels> logger)
{
    /// <summary>Labels for a container's process spec and mounts; nulls when SELinux is not in use.</summary>
    public readonly record struct ContainerLabels(string? Process, string? Mount);

    /// <summary>
    /// The pod's MCS level ("" when SELinux is not in use). <paramref name="levelsInUse"/> are the levels of the other
    /// pods; the caller records the result in the sandbox record before anything else can allocate.
    /// </summary>
    public string PodLevel(PodSandboxConfig config, IReadOnlySet<string> levelsInUse)
    {
        var options = config.Linux?.SecurityContext?.SelinuxOptions;
        if (!InUse(options, "config.linux.security_context.selinux_options", config.Metadata?.Name ?? "")) return "";
        RequireValidNames(options, "config.linux.security_context.selinux_options");
        if (options is { Level.Length: > 0 })
        {
            RequireValidLevel(options.Level, "config.linux.security_context.selinux_options.level");
            return options.Level;
        }
        return levels.Allocate(levelsInUse);
    }

    /// <summary>The label of mounts the pod itself makes (its shm tmpfs): the policy's file label at the pod's level.</summary>
    public string? PodMountLabel(string podLevel, PodSandboxConfig pod)
    {
        if (podLevel.Length == 0 || host.ContainerContexts is not { } contexts) return null;
        var user = pod.Linux?.SecurityContext?.SelinuxOptions?.User;
        return (contexts.File with { User = string.IsNullOrEmpty(user) ? contexts.File.User : user, Level = podLevel }).ToString();
    }

    public ContainerLabels ForContainer(string podLevel, PodSandboxConfig pod, LinuxContainerSecurityContext? sc, string containerName)
    {
        var options = sc?.SelinuxOptions;
        if (!InUse(options, "config.linux.security_context.selinux_options", containerName)) return default;
        var (process, file) = host.ContainerContexts!.Value;
        var podOptions = pod.Linux?.SecurityContext?.SelinuxOptions;
        var user = First(options?.User, podOptions?.User);
        var level = First(options?.Level, podLevel.Length > 0 ? podLevel : null);
        RequireValidNames(options, "config.linux.security_context.selinux_options");
        if (options is { Level.Length: > 0 }) RequireValidLevel(options.Level, "config.linux.security_context.selinux_options.level");

        var processLabel = process with
        {
            User = user ?? process.User,
            Role = First(options?.Role, podOptions?.Role) ?? process.Role,
            Type = First(options?.Type, podOptions?.Type) ?? process.Type,
            Level = level ?? process.Level,
        };
        var mountLabel = file with { User = user ?? file.User, Level = level ?? file.Level };
        return new ContainerLabels(sc?.Privileged == true ? null : processLabel.ToString(), mountLabel.ToString());
    }

    /// <summary>SELinux labels apply only with SELinux on and a policy that has container labels; else options are ignored.</summary>
    private bool InUse(SELinuxOption? options, string field, string name)
    {
        if (host.Enabled && host.ContainerContexts is not null) return true;
        if (options is not null && (options.User.Length + options.Role.Length + options.Type.Length + options.Level.Length) > 0)
        {
            if (host.Enabled) Log.NoContainerPolicy(logger, field, name);
            else Log.Ignored(logger, field, name);
        }
        return false;
    }

    private static void RequireValidLevel(string level, string field)
    {
        if (!SelinuxContext.IsValidLevel(level))
            throw RuntimeException.InvalidField(field, $"\"{level}\" is not an SELinux level (e.g. s0:c1,c2)");
    }

    /// <summary>Policy identifiers only: a label ends up in a mount option and in /proc/self/attr/exec.</summary>
    private static void RequireValidNames(SELinuxOption? options, string field)
    {
        if (options is null) return;
        foreach (var (name, value) in new[] { ("user", options.User), ("role", options.Role), ("type", options.Type) })
        {
            if (value.Length > 0 && !SelinuxContext.IsValidName(value))
                throw RuntimeException.InvalidField($"{field}.{name}", $"\"{value}\" is not an SELinux {name} name (letters, digits, '_', '.', '-')");
        }
    }

    private static string? First(string? preferred, string? fallback) =>
        !string.IsNullOrEmpty(preferred) ? preferred : !string.IsNullOrEmpty(fallback) ? fallback : null;

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "{Name}: {Field} ignored: SELinux is not enabled on this host")]
        public static partial void Ignored(ILogger logger, string field, string name);

        [LoggerMessage(Level = LogLevel.Warning, Message = "{Name}: {Field} ignored: the SELinux policy has no container contexts (lxc_contexts)")]
        public static partial void NoContainerPolicy(ILogger logger, string field, string name);
    }
}
