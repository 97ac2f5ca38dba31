using Crisp.Cri.V1;
using Crisp.Interop;
using Crisp.Runtime.Api;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Lsm;

/// <summary>
/// Chooses a container's AppArmor profile as containerd's CRI plugin does:
/// with AppArmor on the host, RuntimeDefault (also what no request means) loads and applies <see cref="DefaultAppArmorProfile"/>
/// (not for privileged containers), Localhost applies a profile the host has loaded, Unconfined applies none.
/// Without AppArmor, RuntimeDefault and Unconfined run unconfined and a Localhost profile is refused: it names a
/// confinement crisp cannot give. Both the <c>apparmor</c> field and the deprecated <c>apparmor_profile</c> string are read.
/// </summary>
public sealed partial class AppArmorProfiles(IAppArmorHost host, string profileDirectory, ILogger<AppArmorProfiles> logger)
{
    private const string Field = "config.linux.security_context.apparmor";
    private const string LegacyField = "config.linux.security_context.apparmor_profile";
    private const string LocalhostPrefix = "localhost/";

    private readonly SemaphoreSlim _loadLock = new(1, 1);
    private bool _defaultLoaded;

    /// <summary>The profile for the container's process spec, or null for none. Bad or unsatisfiable requests: InvalidArgument.</summary>
    public async Task<string?> ResolveAsync(LinuxContainerSecurityContext? sc, string containerName, CancellationToken ct)
    {
        var request = Requested(sc);
        var privileged = sc?.Privileged == true;
        if (!host.Enabled)
        {
            if (request is { ProfileType: SecurityProfile.Types.ProfileType.Localhost })
                throw RuntimeException.InvalidField(Field,
                    $"AppArmor is not enabled on this host, so the Localhost profile \"{LocalhostName(request)}\" cannot be applied");
            if (request is { ProfileType: SecurityProfile.Types.ProfileType.RuntimeDefault })
                Log.RuntimeDefaultUnconfined(logger, containerName);
            return null;
        }

        // kubernetes#51746: no request means the runtime's default profile.
        switch (request?.ProfileType ?? SecurityProfile.Types.ProfileType.RuntimeDefault)
        {
            case SecurityProfile.Types.ProfileType.Unconfined:
                return null;
            case SecurityProfile.Types.ProfileType.RuntimeDefault:
                if (privileged) return null;
                await EnsureDefaultLoadedAsync(ct).ConfigureAwait(false);
                return DefaultAppArmorProfile.Name;
            case SecurityProfile.Types.ProfileType.Localhost:
                var name = LocalhostName(request!);
                if (!host.IsLoaded(name))
                    throw RuntimeException.InvalidField(Field, $"AppArmor profile \"{name}\" is not loaded on this host");
                return name;
            default:
                throw RuntimeException.InvalidField(Field, $"unknown profile type {request!.ProfileType}");
        }
    }

    private static SecurityProfile? Requested(LinuxContainerSecurityContext? sc)
    {
        if (sc is null) return null;
        if (sc.Apparmor is { } profile)
        {
            if (profile.ProfileType != SecurityProfile.Types.ProfileType.Localhost && profile.LocalhostRef.Length > 0)
                throw RuntimeException.InvalidField(Field + ".localhost_ref", "may only be set for a Localhost profile");
            if (profile.ProfileType == SecurityProfile.Types.ProfileType.Localhost && LocalhostName(profile).Length == 0)
                throw RuntimeException.InvalidField(Field + ".localhost_ref", "a Localhost profile needs a profile name");
            return profile;
        }
        // Older kubelets send only the deprecated string form.
#pragma warning disable CS0612
        var legacy = sc.ApparmorProfile;
#pragma warning restore CS0612
        return legacy switch
        {
            "" => null,
            "runtime/default" or "docker/default" => new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.RuntimeDefault },
            "unconfined" => new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.Unconfined },
            _ when legacy.StartsWith(LocalhostPrefix, StringComparison.Ordinal) && legacy.Length > LocalhostPrefix.Length =>
                new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.Localhost, LocalhostRef = legacy[LocalhostPrefix.Length..] },
            _ => throw RuntimeException.InvalidField(LegacyField,
                $"unknown AppArmor profile \"{legacy}\" (runtime/default, unconfined or localhost/<name>)"),
        };
    }

    // The kubelet sends bare names; "localhost/" is tolerated as containerd does.
    private static string LocalhostName(SecurityProfile profile) =>
        profile.LocalhostRef.StartsWith(LocalhostPrefix, StringComparison.Ordinal) ? profile.LocalhostRef[LocalhostPrefix.Length..] : profile.LocalhostRef;

    /// <summary>
    /// Loads crisp-default once per crispd (replacing what an older crispd loaded, so a changed profile takes effect);
    /// the generated file stays under root/apparmor for operators to read.
    /// </summary>
    private async Task EnsureDefaultLoadedAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _defaultLoaded)) return;
        await _loadLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_defaultLoaded) return;
            var text = DefaultAppArmorProfile.Generate(
                DefaultAppArmorProfile.Name, host.DaemonProfile,
                abi3: host.HasInclude("abi/3.0"), tunables: host.HasInclude("tunables/global"), abstractionsBase: host.HasInclude("abstractions/base"));
            OwnedDirectory.Ensure(profileDirectory);
            var file = Path.Combine(profileDirectory, DefaultAppArmorProfile.Name);
            await OwnedFile.WriteTextAsync(file, text, FileModes.PrivateFile, ct).ConfigureAwait(false);
            await host.LoadAsync(file, ct).ConfigureAwait(false);
            Volatile.Write(ref _defaultLoaded, true);
            Log.DefaultLoaded(logger, DefaultAppArmorProfile.Name, file);
        }
        finally
        {
            _loadLock.Release();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "AppArmor profile {Profile} loaded from {File}")]
        public static partial void DefaultLoaded(ILogger logger, string profile, string file);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Container {Name}: AppArmor RuntimeDefault requested, but AppArmor is not enabled on this host; it runs unconfined")]
        public static partial void RuntimeDefaultUnconfined(ILogger logger, string name);
    }
}
