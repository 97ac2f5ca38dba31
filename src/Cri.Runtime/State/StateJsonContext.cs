using System.Text.Json.Serialization;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.State;

/// <summary>
/// Source-generated JSON for the state store rows (and the resolved user shown in ContainerStatus verbose info).
/// Records are always written with every non-nullable member set, so anything else read back is damage.
/// </summary>
[JsonSourceGenerationOptions(RespectNullableAnnotations = true)]
[JsonSerializable(typeof(SandboxRecord))]
[JsonSerializable(typeof(ContainerRecord))]
[JsonSerializable(typeof(ResolvedUser))]
[JsonSerializable(typeof(ImageVolumeUse))]
internal sealed partial class StateJsonContext : JsonSerializerContext;
