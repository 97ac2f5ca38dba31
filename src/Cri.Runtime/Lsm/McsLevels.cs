using System.Globalization;

namespace Crisp.Runtime.Lsm;

/// <summary>
/// Multi-category security levels "s0:cX,cY" (X &lt; Y &lt; 1024, as go-selinux picks them): two pods with different levels
/// cannot read each other's files even under the same type. Uniqueness is checked against the levels in use, which
/// are the levels recorded in the sandbox records: a level is reserved by its pod's record and released with it.
/// </summary>
public sealed class McsLevels(Func<int, int>? next = null)
{
    public const int Categories = 1024;
    private const int MaxAttempts = 100_000;

    private readonly Func<int, int> _next = next ?? Random.Shared.Next;

    public string Allocate(IReadOnlySet<string> inUse)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var (a, b) = (_next(Categories), _next(Categories));
            if (a == b) continue;
            var level = string.Create(CultureInfo.InvariantCulture, $"s0:c{Math.Min(a, b)},c{Math.Max(a, b)}");
            if (!inUse.Contains(level)) return level;
        }
        throw new Api.RuntimeException(Api.RuntimeErrorKind.ResourceExhausted,
            $"no free SELinux MCS level after {MaxAttempts} attempts ({inUse.Count} in use)");
    }
}
