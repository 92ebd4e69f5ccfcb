"""Load tests: Locust for the web tier, a job-request generator for the annotators, the
report of what they measured, and a replay of the Terraform scaling policies.

Black-box: nothing here imports the app. The load generators speak HTTP to the web app
(and read queue depths through the AWS API), as a browser and an operator would.
"""
