"""Quality: PSNR/SSIM, scoring a model on test lights, and the HTML report."""
