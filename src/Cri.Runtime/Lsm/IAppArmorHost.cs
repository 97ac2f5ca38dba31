namespace Crisp.Runtime.Lsm;

/// <summary>What crisp needs from the host's AppArmor; faked in unit tests, since these machines have no AppArmor.</summary>
public interface IAppArmorHost
{
    /// <summary>The kernel enforces AppArmor (/sys/module/apparmor/parameters/enabled is "Y") and apparmor_parser exists.</summary>
    bool Enabled { get; }

    /// <summary>The profile is loaded in the kernel (a line "&lt;name&gt; (&lt;mode&gt;)" in /sys/kernel/security/apparmor/profiles).</summary>
    bool IsLoaded(string profile);

    /// <summary>Whether /etc/apparmor.d has this include (tunables/global, abstractions/base, abi/3.0).</summary>
    bool HasInclude(string relativePath);

    /// <summary>crispd's own profile ("unconfined" when it runs unconfined), which must be allowed to signal containers.</summary>
    string DaemonProfile { get; }

    /// <summary>Loads or replaces the profile in <paramref name="profileFile"/> (apparmor_parser -Kr).</summary>
    Task LoadAsync(string profileFile, CancellationToken ct);
}
