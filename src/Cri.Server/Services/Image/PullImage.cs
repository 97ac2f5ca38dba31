using Crisp.Cri.V1;
using Crisp.ImageService.Api;
using Grpc.Core;

namespace Crisp.Server.Services.Image;

public sealed partial class CrispImageService
{
    /// <summary>
    /// Pulls (or finds present) the image and answers its id, the same "sha256:…" that Image.id and a
    /// container's image_id carry. All runtime handlers share one image store, so runtime_handler
    /// needs no separate pull. user_specified_image (the name as the pod spec wrote it) is kept
    /// and served back in Image.spec.
    /// </summary>
    public override async Task<PullImageResponse> PullImage(PullImageRequest request, ServerCallContext context)
    {
        string reference = request.Image?.Image ?? "";
        if (string.IsNullOrWhiteSpace(reference))
        {
            throw new ImageServiceException(ImageErrorKind.InvalidArgument, "PullImageRequest.image.image is empty");
        }
        ImageRecord image = await images.PullAsync(reference, ImageMessages.Credentials(request.Auth), context.CancellationToken,
            userSpecifiedImage: request.Image!.UserSpecifiedImage);
        return new PullImageResponse { ImageRef = image.Id };
    }
}
