namespace Crisp.Runtime.Preflight;

/// <summary>How far a host prerequisite is met.</summary>
public enum PreflightStatus
{
    Ok,
    /// <summary>crisp runs, without what this item gives (a feature refused, a handler not offered).</summary>
    Degraded,
    /// <summary>crisp cannot run here until this is fixed.</summary>
    Missing,
}

/// <summary>One prerequisite as `crispd check` prints it: what was found, and how to fix it when not ok.</summary>
public sealed record PreflightItem(string Name, PreflightStatus Status, string Detail, string? Fix = null)
{
    public static PreflightItem Ok(string name, string detail) => new(name, PreflightStatus.Ok, detail);
    public static PreflightItem Degraded(string name, string detail, string fix) => new(name, PreflightStatus.Degraded, detail, fix);
    public static PreflightItem Missing(string name, string detail, string fix) => new(name, PreflightStatus.Missing, detail, fix);
}
