"""Patients' imaging: processing of uploads, DICOM rendering, and the doctors' review.

- `processing`: the background task that turns an upload into studies, series and previews;
- `dicom`: pure functions that read DICOM and render it with the right windowing;
- `services`: the review's reads and writes (queue, verdicts, renditions, audit, purge);
- `views`, `urls`: the doctors' pages under /staff/imaging/;
- `admin`: the read-only audit and reviews in the admin.
"""
