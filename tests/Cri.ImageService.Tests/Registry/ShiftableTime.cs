namespace Crisp.ImageService.Tests.RegistryTests;

/// <summary>The system clock moved by <see cref="Offset"/>; timers and delays stay real.</summary>
internal sealed class ShiftableTime : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
}
